// Parsing of priority names and numbers as the API and CLI accept them.
#include "agent/common/priority.h"

namespace bwalloc {

std::optional<Priority> parse_priority(std::string_view text) {
  if (text == "High" || text == "high" || text == "1") return Priority::High;
  if (text == "Normal" || text == "normal" || text == "2") return Priority::Normal;
  if (text == "Low" || text == "low" || text == "3") return Priority::Low;
  if (text == "Blocked" || text == "blocked" || text == "0") return Priority::Blocked;
  return std::nullopt;
}

}  // namespace bwalloc
