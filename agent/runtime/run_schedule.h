// RunSchedule: when the run loop ticks, scans the LAN and follows the
// interfaces. Pure: it reads no clock; the loop passes the Clock's
// monotonic time, so a test drives it with a fake clock.
#pragma once

#include <chrono>

namespace bwalloc {

class RunSchedule {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  // Names, MACs and vendors fill in by themselves this often.
  static constexpr std::chrono::seconds kScanInterval{30};
  // How long the loop may wait without following the interfaces: an
  // interface that comes back gets its programs within a fraction of a
  // second, whatever the tick.
  static constexpr std::chrono::milliseconds kFollowInterval{100};

  // The first tick and the first scan are due at `start`.
  explicit RunSchedule(TimePoint start) : next_tick_(start), next_scan_(start) {}

  bool tick_due(TimePoint now) const { return now >= next_tick_; }
  // After a tick: the next one is a period after the one due, or now after
  // a slow tick (no burst to catch up).
  void ticked(TimePoint now, std::chrono::milliseconds period) {
    next_tick_ += period;
    if (next_tick_ < now) next_tick_ = now;
  }
  bool scan_due(TimePoint now) const { return now >= next_scan_; }
  void scanned(TimePoint now) { next_scan_ = now + kScanInterval; }
  // How long the loop may wait from `now`: until the next tick, at most
  // kFollowInterval.
  std::chrono::nanoseconds wait_from(TimePoint now) const {
    if (next_tick_ <= now) return std::chrono::nanoseconds(0);
    return std::min<std::chrono::nanoseconds>(next_tick_ - now, kFollowInterval);
  }
  TimePoint next_tick() const { return next_tick_; }

 private:
  TimePoint next_tick_;
  TimePoint next_scan_;
};

}  // namespace bwalloc
