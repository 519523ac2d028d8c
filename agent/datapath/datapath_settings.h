// The datapath's run-time settings map (bwa_settings) and port classes,
// written from the configuration and what open() found out (whether fq
// paces, whether XDP counts ingress).
#pragma once

#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"
#include "agent/datapath/ebpf_maps.h"

namespace bwalloc {

// Writes bwa_settings whole (with a new policy generation, so the programs'
// policy copies expire) and syncs the port classes. With fq the horizon
// bounds queueing delay; without it packets leave at once whatever their
// timestamp, so the horizon is at least the policer burst. Without XDP, tc
// ingress is told to count.
[[nodiscard]] Result<void> write_settings(const MapFds& fds, const DatapathConfig& config, bool pacing_active,
                                          bool xdp_counts_ingress);

}  // namespace bwalloc
