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
    case EventLevel::Info:
      return "INFO";
    case EventLevel::Alert:
      return "ALERT";
    case EventLevel::Auto:
      return "AUTO";
    case EventLevel::Admin:
      return "ADMIN";
    case EventLevel::Error:
      return "ERROR";
  }
  return "INFO";
}

// The level event_level_name() wrote; nullopt for any other text.
constexpr std::optional<EventLevel> parse_event_level(std::string_view name) {
  for (EventLevel level :
       {EventLevel::Info, EventLevel::Alert, EventLevel::Auto, EventLevel::Admin, EventLevel::Error}) {
    if (event_level_name(level) == name) return level;
  }
  return std::nullopt;
}

struct Event {
  std::chrono::system_clock::time_point ts;
  EventLevel level = EventLevel::Info;
  std::string message;
  std::string actor;                // "allocator", "admin:<token id>", "agent", ...
  std::optional<IpAddress> device;  // the device it concerns, if any
};

}  // namespace bwalloc
