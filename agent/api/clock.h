// Clock: the one seam for time. Pure logic and the agent's run loop take a
// Clock& so tests advance a fake clock (tests/fakes/fake_clock.h) instead of
// sleeping.
#pragma once

#include <chrono>

namespace bwalloc {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall time, for timestamps people read and store (may step).
  virtual std::chrono::system_clock::time_point wall_now() const = 0;
  // Monotonic time, for measuring intervals (never steps).
  virtual std::chrono::steady_clock::time_point mono_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point wall_now() const override { return std::chrono::system_clock::now(); }
  std::chrono::steady_clock::time_point mono_now() const override { return std::chrono::steady_clock::now(); }
};

}  // namespace bwalloc
