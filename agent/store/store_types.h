// What the store keeps, as plain values. Timestamps are integer
// milliseconds since the Unix epoch, UTC.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/event.h"
#include "agent/common/history_resolution.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"

namespace bwalloc {

// Columns rx_bytes (down) and tx_bytes (up): see agent/common/direction.h.
struct UsageSample {
  IpAddress ip;
  uint64_t down_bytes = 0;
  uint64_t up_bytes = 0;
};

// A device's lasting record. Discovery fills mac/hostname/vendor; only the
// allocator and admins change priority.
struct DeviceRecord {
  IpAddress ip;
  std::string mac;
  std::string hostname;
  std::string vendor;
  Priority priority = Priority::Normal;
  bool manual = false;
  int64_t first_seen_ms = 0;
  int64_t last_seen_ms = 0;
};

struct BlockRecord {
  IpAddress ip;
  std::string reason;
  int64_t ts_ms = 0;
};

// Everything one tick writes, in one transaction.
struct TickRecord {
  int64_t ts_ms = 0;
  std::vector<UsageSample> samples;
  std::vector<Event> events;
  std::vector<DeviceRecord> devices;  // upserts (priority, manual, last seen, names)
  std::vector<BlockRecord> blocks;    // new blocks
  std::vector<IpAddress> unblocks;
  std::vector<std::pair<std::string, std::string>> config;  // runtime settings changed
};

struct StoredEvent {
  int64_t ts_ms = 0;
  EventLevel level = EventLevel::Info;
  std::string message;
  std::string actor;
  std::string ip;
};

struct StoredUsage {
  std::string ip;
  int64_t ts_ms = 0;
  uint64_t down_bytes = 0;
  uint64_t up_bytes = 0;
};

}  // namespace bwalloc
