// The ADMIN event texts; see admin_messages.h.
#include "agent/runtime/admin_messages.h"

namespace bwalloc {

std::string priority_set_message(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor) {
  return priority ? ip.to_string() + " set to " + std::string(priority_name(*priority)) + " (manual) by " + actor
                  : ip.to_string() + " back to automatic priority by " + actor;
}

std::string blocked_message(const IpAddress& ip, const std::string& actor, const std::string& reason) {
  return "blocked " + ip.to_string() + " by " + actor + (reason.empty() ? "" : ": " + reason);
}

std::string unblocked_message(const IpAddress& ip, const std::string& actor) {
  return "unblocked " + ip.to_string() + " by " + actor + " (back to auto, Normal)";
}

std::string scan_message(const std::string& actor, size_t neighbours) {
  return "LAN scan by " + actor + ": " + std::to_string(neighbours) + " neighbours";
}

std::string settings_message(const std::string& actor,
                             const std::vector<std::pair<std::string, std::string>>& settings) {
  std::string summary;
  for (const auto& [key, value] : settings) summary += (summary.empty() ? "" : ", ") + key + " = " + value;
  return "settings changed by " + actor + ": " + summary;
}

}  // namespace bwalloc
