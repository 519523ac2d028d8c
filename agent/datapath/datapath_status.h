// The eBPF datapath's status: programs on the configured interfaces, map
// sizes and global counters from the maps, and, for the running datapath,
// what it knows beyond them (pacing, the XDP decision, which interfaces
// hold all of its hooks, devices over capacity).
#pragma once

#include <cstdint>
#include <string>

#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/pacing_qdiscs.h"
#include "agent/datapath/role.h"

namespace bwalloc {

// What the running datapath knows that the maps do not say.
struct DatapathFacts {
  Pacing pacing;
  std::string xdp_note;  // why XDP is not counting ingress; "" when it is
  bool xdp_in_use = false;
  PerRole<int> attached;  // each role's ifindex, 0 = not attached
  uint64_t reattachments = 0;
  uint64_t devices_over_capacity = 0;
};

// From the maps and the interfaces alone (used with pinned maps too).
DatapathStatus collect_status(const DatapathConfig& config, const MapFds& fds);

// collect_status plus the running datapath's facts.
DatapathStatus running_status(const DatapathConfig& config, const MapFds& fds, const DatapathFacts& facts);

}  // namespace bwalloc
