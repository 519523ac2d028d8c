// Whether the LAN's ingress is counted by XDP or by tc, from the configured
// mode and the LAN's driver. Pure: ebpf_datapath.cpp observes the driver and
// acts. "auto" skips XDP on a veth: veth's XDP path gives up GRO and copies
// every GSO packet, which costs far more upload forwarding than tc
// (bench/shaping_bench), and tc sees the same bytes.
#pragma once

#include <optional>
#include <string>

#include "agent/datapath/datapath_config.h"

namespace bwalloc {

struct IngressPlan {
  bool try_xdp = false;   // attach XDP (the mode decides what a failure means)
  std::string note;       // why not, for the status; "" when XDP is tried
  bool log_note = false;  // the operator did not ask for it: say so in the log
};

IngressPlan plan_ingress(IngressAttachMode mode, const std::string& lan_interface,
                         const std::optional<std::string>& lan_driver);

}  // namespace bwalloc
