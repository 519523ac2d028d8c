// InstanceLock: one running agent per state directory. `bwalloc run` holds
// an flock on <state_dir>/agent.lock for its lifetime; `bwalloc detach` and a
// second `run` check it so they never pull the datapath out from under a
// running agent. The kernel drops the lock when the process dies (kill -9
// included), so a crash never leaves a stale lock behind.
#pragma once

#include <string>

#include "agent/common/result.h"

namespace bwalloc {

class InstanceLock {
 public:
  // Takes the lock or fails with who holds it ("an agent (pid 123) is running").
  [[nodiscard]] static Result<InstanceLock> acquire(const std::string& state_dir);
  // True when some process holds the lock right now.
  static bool held_by_other(const std::string& state_dir);

  InstanceLock(InstanceLock&& other) noexcept;
  InstanceLock& operator=(InstanceLock&&) = delete;
  ~InstanceLock();

 private:
  explicit InstanceLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bwalloc
