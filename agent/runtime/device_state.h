// DeviceState: what the agent holds about one device between ticks. The
// priority lives once, in `alloc` (the allocator's state); the row the
// store keeps is made from it by stored_record().
#pragma once

#include <cstdint>
#include <string>

#include "agent/common/ip_address.h"
#include "agent/core/allocator.h"
#include "agent/store/store_types.h"

namespace bwalloc {

struct DeviceState {
  // Names and sightings, as the store keeps them.
  std::string mac;
  std::string hostname;
  std::string vendor;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
  AllocatorState alloc;  // priority, manual override, pending demotion
  uint64_t up_total = 0;
  uint64_t down_total = 0;
  double up_rate = 0;
  double down_rate = 0;
  uint64_t blocked_drops = 0;
  uint64_t horizon_drops = 0;
  bool policy_applied = false;
  bool dirty = false;  // the stored row changed since the last write
};

// The device as a stored row (its priority and manual flag from alloc).
inline DeviceRecord stored_record(const IpAddress& ip, const DeviceState& d) {
  return DeviceRecord{
      ip, d.mac, d.hostname, d.vendor, d.alloc.priority, d.alloc.manual, d.first_seen_ms, d.last_seen_ms};
}

// A device as the store kept it (its priority and manual flag into alloc).
inline DeviceState restored_device(const DeviceRecord& record) {
  DeviceState d;
  d.mac = record.mac;
  d.hostname = record.hostname;
  d.vendor = record.vendor;
  d.first_seen_ms = record.first_seen_ms;
  d.last_seen_ms = record.last_seen_ms;
  d.alloc.priority = record.priority;
  d.alloc.manual = record.manual;
  return d;
}

}  // namespace bwalloc
