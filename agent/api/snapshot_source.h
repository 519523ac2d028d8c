// SnapshotSource: what the agent has published, read without waiting for it.
// Each read returns an immutable copy; any thread may call these.
#pragma once

#include <memory>
#include <vector>

#include "agent/api/agent_views.h"

namespace bwalloc {

class SnapshotSource {
 public:
  virtual ~SnapshotSource() = default;

  // The newest published snapshot; never null once the agent has started.
  virtual std::shared_ptr<const Snapshot> snapshot() const = 0;
  // Every setting as it is now (the copy the last change published).
  virtual std::vector<ConfigEntry> config() const = 0;
};

}  // namespace bwalloc
