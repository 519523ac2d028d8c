// DeviceTrack: all the sampler keeps per device, in one map entry, so a
// tick costs one lookup per device instead of one per map (at 65,536
// devices each lookup is a cache miss or two). It is a RateWindow (the
// allocator reads it as one) that also remembers the counts the next
// tick's deltas start from.
#pragma once

#include <chrono>
#include <cstdint>

#include "agent/core/rate_window.h"

namespace bwalloc {

struct DeviceTrack : RateWindow {
  explicit DeviceTrack(size_t window) : RateWindow(window) {}
  // Cumulative counts as of the last read that saw the device, and when.
  uint64_t up = 0;
  uint64_t down = 0;
  std::chrono::steady_clock::time_point seen;
};

}  // namespace bwalloc
