// Translation between the API's enums and the store's: the store keeps event
// levels as text and has its own history resolution.
#pragma once

#include <string>

#include "agent/api/agent_views.h"
#include "agent/common/event.h"
#include "agent/store/store_types.h"

namespace bwalloc {

Resolution store_resolution(HistoryResolution resolution);
// An unknown level reads as Info.
EventLevel event_level_from(const std::string& stored_name);

}  // namespace bwalloc
