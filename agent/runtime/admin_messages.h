// The texts of the ADMIN events the agent's commands write: what the event
// list and /api/events show. Pure; the words are part of the API.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/priority.h"

namespace bwalloc {

// priority = nullopt: the manual override was released.
std::string priority_set_message(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor);
std::string blocked_message(const IpAddress& ip, const std::string& actor, const std::string& reason);
std::string unblocked_message(const IpAddress& ip, const std::string& actor);
std::string scan_message(const std::string& actor, size_t neighbours);
// `settings`: each changed key with its value as now stored.
std::string settings_message(const std::string& actor,
                             const std::vector<std::pair<std::string, std::string>>& settings);

}  // namespace bwalloc
