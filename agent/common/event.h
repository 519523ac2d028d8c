// Event: one line of the event log (allocator decisions, spikes, admin
// actions, errors), as the original system's events table kept them.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "agent/common/ip_address.h"

namespace bwalloc {

enum class EventLevel { Info, Alert, Auto, Admin, Error };

constexpr std::string_view event_level_name(EventLevel level) {
  switch (level) {
    case EventLevel::Info: return "INFO";
    case EventLevel::Alert: return "ALERT";
    case EventLevel::Auto: return "AUTO";
    case EventLevel::Admin: return "ADMIN";
    case EventLevel::Error: return "ERROR";
  }
  return "INFO";
}

struct Event {
  std::chrono::system_clock::time_point ts;
  EventLevel level = EventLevel::Info;
  std::string message;
  std::string actor;                  // "allocator", "admin:<token id>", "agent", ...
  std::optional<IpAddress> device;    // the device it concerns, if any
};

}  // namespace bwalloc
