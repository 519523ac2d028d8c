// The /api/devices body of one published snapshot, serialised once however
// many clients ask during its tick: building 1,000 JSON device objects per
// request was ~35 ms of allocator churn each (bench/api_latency.sh).
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "agent/api/agent_control.h"

namespace bwalloc {

class DeviceListCache {
 public:
  // The body for `snapshot`, serialised now if it is a newer snapshot than
  // the cached one. Keeping the snapshot alive makes its address a safe key.
  std::shared_ptr<const std::string> body_for(std::shared_ptr<const Snapshot> snapshot);

 private:
  std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const std::string> body_;
};

}  // namespace bwalloc
