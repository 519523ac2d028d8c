// API <-> store enum translation; see store_enums.h.
#include "agent/runtime/store_enums.h"

namespace bwalloc {

Resolution store_resolution(HistoryResolution resolution) {
  switch (resolution) {
    case HistoryResolution::Raw: return Resolution::Raw;
    case HistoryResolution::Minute: return Resolution::Minute;
    case HistoryResolution::Hour: return Resolution::Hour;
    case HistoryResolution::Day: return Resolution::Day;
  }
  return Resolution::Raw;
}

EventLevel event_level_from(const std::string& stored_name) {
  if (stored_name == "ALERT") return EventLevel::Alert;
  if (stored_name == "AUTO") return EventLevel::Auto;
  if (stored_name == "ADMIN") return EventLevel::Admin;
  if (stored_name == "ERROR") return EventLevel::Error;
  return EventLevel::Info;
}

}  // namespace bwalloc
