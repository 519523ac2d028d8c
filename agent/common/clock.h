// Clock: the one seam for time. Pure logic takes a Clock& so tests advance a
// FakeClock instead of sleeping.
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
  std::chrono::system_clock::time_point wall_now() const override {
    return std::chrono::system_clock::now();
  }
  std::chrono::steady_clock::time_point mono_now() const override {
    return std::chrono::steady_clock::now();
  }
};

// A clock that moves only when told to; for tests.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::chrono::system_clock::time_point wall =
                         std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000)))
      : wall_(wall) {}
  std::chrono::system_clock::time_point wall_now() const override { return wall_; }
  std::chrono::steady_clock::time_point mono_now() const override { return mono_; }
  void advance(std::chrono::nanoseconds d) {
    wall_ += std::chrono::duration_cast<std::chrono::system_clock::duration>(d);
    mono_ += d;
  }
  // Steps only the wall clock, as an NTP jump or an admin would.
  void step_wall(std::chrono::system_clock::time_point to) { wall_ = to; }

 private:
  std::chrono::system_clock::time_point wall_;
  std::chrono::steady_clock::time_point mono_{};
};

}  // namespace bwalloc
