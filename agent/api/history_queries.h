// HistoryQueries: the stored history (usage, events, blocks), read from the
// store's reader connection; never waits for the agent's tick thread. Any
// thread may call these.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "agent/api/agent_views.h"
#include "agent/common/event.h"
#include "agent/common/ip_address.h"
#include "agent/common/result.h"

namespace bwalloc {

class HistoryQueries {
 public:
  virtual ~HistoryQueries() = default;

  [[nodiscard]] virtual Result<std::vector<UsageRow>> recent_usage(size_t limit) const = 0;
  [[nodiscard]] virtual Result<std::vector<Event>> recent_events(size_t limit) const = 0;
  // Oldest first. from/to in ms since the epoch.
  [[nodiscard]] virtual Result<std::vector<HistoryPoint>> history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                                                  HistoryResolution resolution) const = 0;
  [[nodiscard]] virtual Result<std::vector<BlockedEntry>> blocked() const = 0;
};

}  // namespace bwalloc
