// The allocator: a pure function from each device's window of recent rates
// and its current state to new priorities and events, implementing the
// original system's rules exactly (../shared/SEED_BEHAVIOUR.md):
// thresholds with strict comparisons, the 2-sigma spike rule, 3-tick
// demotion hysteresis, and hands off Blocked and manually set devices.
#pragma once

#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "agent/api/clock.h"
#include "agent/common/event.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"
#include "agent/config/config.h"
#include "agent/core/device_track.h"
#include "agent/core/ip_hash.h"

namespace bwalloc {

struct AllocatorState {
  Priority priority = Priority::Normal;  // a device never classified is Normal
  bool manual = false;                   // set by an admin: the allocator keeps off
  std::optional<Priority> pending;       // a demotion waiting for hysteresis
  int pending_ticks = 0;                 // consecutive ticks it has been proposed
  bool in_spike = false;                 // an ALERT was logged for the current spike
};

struct SpikeStats {
  double mean = 0;
  double stddev = 0;  // population standard deviation
};

// Windows are oldest first, newest last: the sampler's RateWindow (each
// DeviceTrack is one), or a std::deque for callers that build one by hand.
// Both give the same results.

// Mean and population stddev of every sample but the newest.
SpikeStats earlier_sample_stats(const std::deque<double>& window);
SpikeStats earlier_sample_stats(const RateWindow& window);

// The class the thresholds alone propose for a rate (strict comparisons).
Priority threshold_priority(double bits_per_sec, const AllocatorConfig& config);

// True when the spike rule fires for this window.
bool is_spike(const std::deque<double>& window, const AllocatorConfig& config);
bool is_spike(const RateWindow& window, const AllocatorConfig& config);

struct AllocationResult {
  std::unordered_map<IpAddress, AllocatorState> states;
  std::vector<Event> events;
};

// One tick of the allocator. Devices without a window keep their state.
// When config.auto_mode is off nothing changes.
AllocationResult allocate(const std::unordered_map<IpAddress, std::deque<double>>& windows,
                          std::unordered_map<IpAddress, AllocatorState> states, const AllocatorConfig& config,
                          const Clock& clock);
AllocationResult allocate(const std::unordered_map<IpAddress, DeviceTrack, FastIpHash>& windows,
                          std::unordered_map<IpAddress, AllocatorState> states, const AllocatorConfig& config,
                          const Clock& clock);

}  // namespace bwalloc
