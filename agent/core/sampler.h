// Sampler: turns the datapath's cumulative per-device counters, read once a
// tick, into per-tick byte deltas and rates, and keeps each device's sliding
// window of recent rates for the allocator. Pure: no I/O, no clock reads.
#pragma once

#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/core/device_track.h"
#include "agent/core/ip_hash.h"
#include "agent/api/datapath.h"

namespace bwalloc {

// A device's cumulative counts as of the last read: what the next read's
// deltas start from. Kept across an agent restart (see resume()).
struct CounterBaseline {
  IpAddress ip;
  uint64_t up_bytes = 0;
  uint64_t down_bytes = 0;
};

struct DeviceSample {
  IpAddress ip;
  uint64_t down_bytes = 0;  // router -> device this tick
  uint64_t up_bytes = 0;    // device -> router this tick
  double down_bits_per_sec = 0;
  double up_bits_per_sec = 0;
};

class Sampler {
 public:
  // `window` samples per device; devices missing from the counters for
  // `forget_after` are dropped so memory stays bounded.
  Sampler(size_t window, std::chrono::milliseconds nominal_tick, std::chrono::milliseconds forget_after);

  // One tick. `now` is monotonic; rates use the time since the previous
  // update, clamped to at least half a tick so a late or early read never
  // turns into a huge rate. On the first read after start every device only
  // sets its baseline (the maps outlive the agent, so counts may cover
  // hours); a device appearing later counts all its bytes as new.
  // A counter that went down (entry evicted and re-created, or reset) counts
  // its new value as the delta: never negative.
  std::vector<DeviceSample> update(const std::vector<DeviceCounters>& counters,
                                   std::chrono::steady_clock::time_point now);

  // Every device's counts as of the last update, and when that update read
  // them; an agent saves these each tick so its successor can resume().
  std::vector<CounterBaseline> baselines() const;
  std::chrono::steady_clock::time_point last_read() const { return previous_; }
  bool has_read() const { return has_previous_; }

  // Continues where a previous agent's sampler stopped (the kernel maps
  // outlive the agent): the first update then counts the bytes since that
  // agent's last read instead of only setting a baseline, so a restart loses
  // no history. `read_at` is a steady_clock (CLOCK_MONOTONIC, system-wide)
  // time; a baseline from the future or older than forget_after is ignored.
  // Returns whether it was used. Call before the first update.
  bool resume(const std::vector<CounterBaseline>& baselines, std::chrono::steady_clock::time_point read_at,
              std::chrono::steady_clock::time_point now);

  // Newest last: rx+tx bits/s per tick. A device only baselined so far has
  // an empty window.
  const std::unordered_map<IpAddress, DeviceTrack, FastIpHash>& windows() const { return tracks_; }
  size_t tracked_devices() const { return tracks_.size(); }

 private:
  size_t window_;
  std::chrono::milliseconds nominal_tick_;
  std::chrono::milliseconds forget_after_;
  bool has_previous_ = false;
  std::chrono::steady_clock::time_point previous_;
  // No device in tracks_ was seen before this: while it is within
  // forget_after of now nothing can be due, and the sweep over every device
  // (a cache miss each, at 65,536 devices) is skipped.
  std::chrono::steady_clock::time_point oldest_seen_ = std::chrono::steady_clock::time_point::max();
  std::unordered_map<IpAddress, DeviceTrack, FastIpHash> tracks_;
};

}  // namespace bwalloc
