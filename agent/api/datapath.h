// Datapath: the seam between the agent and whatever counts and shapes the
// packets (the eBPF programs, the pcap + command-shaper fallback, or the
// simulator). The agent reads cumulative counters once per tick and writes
// the policy it wants each device to have; the datapath keeps the kernel in
// line with that.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/common/backend.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"
#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"

namespace bwalloc {

// Cumulative counters of one device since the datapath first saw it, summed
// over CPUs. "up" is device -> router, "down" router -> device.
struct DeviceCounters {
  IpAddress address;
  uint64_t up_bytes = 0;
  uint64_t down_bytes = 0;
  uint64_t up_packets = 0;
  uint64_t down_packets = 0;
  uint64_t up_priority_bytes = 0;  // on a priority port (counted in up_bytes too)
  uint64_t down_priority_bytes = 0;
  uint64_t up_unlimited_bytes = 0;  // on an unlimited port (counted in up_bytes too)
  uint64_t down_unlimited_bytes = 0;
  uint64_t sparse_packets = 0;    // both directions: limited packets sent at once (the fast lane)
  uint64_t blocked_drops = 0;     // both directions
  uint64_t horizon_drops = 0;     // both directions
  uint64_t fair_drops = 0;        // both directions: to slow a flow far above its fair share
  uint64_t ce_marks = 0;          // both directions
  uint64_t last_seen_age_ns = 0;  // how long ago the newest packet was seen
};

// What the agent wants the datapath to do for one device.
struct DevicePolicy {
  IpAddress address;
  Priority priority = Priority::Normal;
  uint64_t up_rate_bits_per_sec = 0;    // 0 = unlimited
  uint64_t down_rate_bits_per_sec = 0;  // 0 = unlimited
  bool exempt_all = false;              // count only, never pace

  bool operator==(const DevicePolicy&) const = default;
};

struct AttachedProgram {
  std::string program;    // e.g. "bwa_xdp_ingress"
  std::string interface;  // e.g. "lan0"
  std::string hook;       // "xdp (native)", "xdp (generic)", "tc ingress", "tc egress"
  uint32_t program_id = 0;
};

struct MapInfo {
  std::string name;
  uint32_t max_entries = 0;
  uint32_t used_entries = 0;
};

// One configured interface as the datapath sees it now.
struct InterfaceStatus {
  std::string role;  // "lan" or "wan"
  std::string name;
  int ifindex = 0;        // 0: no interface has that name now
  bool attached = false;  // every program bwalloc wants there is on it
};

// Something the datapath did or found on its own (an interface came back and
// got its programs again, or went away), for the log and the event list.
struct DatapathNotice {
  bool problem = false;
  std::string message;
};

struct DatapathStatus {
  Backend backend = Backend::Simulator;
  std::vector<AttachedProgram> programs;
  std::vector<MapInfo> maps;
  bool pacing_active = false;  // true when an fq qdisc honours the EDT timestamps
  std::string pacing_note;     // why not, in words an operator can act on
  uint64_t unparsed_packets = 0;
  uint64_t counter_insert_failures = 0;
  uint64_t new_devices = 0;       // counter entries the datapath created itself
  uint64_t unshaped_no_slot = 0;  // limited traffic seen without an EDT slot
  uint64_t capture_drops = 0;     // pcap: packets the capture buffer had no room for
  std::vector<InterfaceStatus> interfaces;
  uint64_t interface_reattachments = 0;  // times an interface got our programs back
  // Devices the agent wants a policy for that the full policy map cannot
  // hold: they are counted and forwarded but neither limited nor blocked.
  uint64_t devices_over_capacity = 0;
};

class Datapath {
 public:
  virtual ~Datapath() = default;

  // One batch read of every device's cumulative counters.
  [[nodiscard]] virtual Result<std::vector<DeviceCounters>> read_counters() = 0;

  // Makes the kernel hold exactly these policies for these devices (others
  // keep theirs). Idempotent: re-applying the same policy changes nothing.
  [[nodiscard]] virtual Result<void> apply_policies(const std::vector<DevicePolicy>& policies) = 0;

  // Forgets a device's policy (it goes back to unlimited and unblocked).
  [[nodiscard]] virtual Result<void> remove_policy(const IpAddress& address) = 0;

  virtual DatapathStatus status() const = 0;

  // Follows the configured interfaces: re-attaches when one is recreated,
  // renamed back or lost programs, lets go of one renamed away. Cheap when
  // nothing changed; the agent calls it several times a second.
  virtual std::vector<DatapathNotice> maintain_interfaces() { return {}; }

  // Runtime settings (horizon, CE target, ECN, priority and unlimited ports). Backends
  // without such settings accept and ignore them.
  [[nodiscard]] virtual Result<void> update_settings(const DatapathConfig&) { return {}; }
};

}  // namespace bwalloc
