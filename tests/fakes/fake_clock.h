// FakeClock: a Clock that moves only when a test tells it to. Thread-safe,
// so a test may advance it while the agent's run loop reads it on another
// thread.
#pragma once

#include <atomic>
#include <chrono>

#include "agent/api/clock.h"

namespace bwalloc {

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point wall =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)))
      : wall_(wall) {}
  std::chrono::system_clock::time_point wall_now() const override { return wall_.load(); }
  std::chrono::steady_clock::time_point mono_now() const override { return mono_.load(); }
  // Moves both clocks by `d`.
  void advance(std::chrono::nanoseconds d) {
    wall_.store(wall_.load() + std::chrono::duration_cast<std::chrono::system_clock::duration>(d));
    mono_.store(mono_.load() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(d));
  }
  // Steps only the wall clock, as an NTP jump or an admin would.
  void step_wall(std::chrono::system_clock::time_point to) { wall_.store(to); }

 private:
  // One test thread advances; others only read: load/store pairs suffice.
  std::atomic<std::chrono::system_clock::time_point> wall_;
  std::atomic<std::chrono::steady_clock::time_point> mono_{};
};

}  // namespace bwalloc
