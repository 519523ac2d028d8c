// The Linux fallback backend put together: libpcap capture on the LAN
// interface, tc HTB shaping (an ifb device for upload) run by fork/exec,
// with fq_codel leaves when a probe at start finds the qdisc (bfifo
// otherwise, logged once), the LAN's prefixes from getifaddrs. Used when
// eBPF cannot be loaded or when agent.backend = "pcap".
#pragma once

#include <memory>
#include <string>

#include "agent/common/result.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "agent/fallback/capture_counters.h"

namespace bwalloc {

// The ifb device the tc shaper redirects LAN ingress to (upload shaping).
inline constexpr const char* kTcIfbInterface = "bwalloc-ifb0";

// With config.shaper_dry_run the tc commands are logged, not run.
[[nodiscard]] Result<std::unique_ptr<Datapath>> open_pcap_datapath(const DatapathConfig& config);

// The IPv4/IPv6 addresses of `interface` and their prefixes (getifaddrs).
[[nodiscard]] Result<LanAddresses> read_lan_addresses(const std::string& interface);

// Removes the tc tree and ifb device a pcap backend left (an agent that was
// killed); true when there was one. Nothing is touched when the ifb device
// is absent, so an eBPF setup's qdiscs are never removed by mistake.
[[nodiscard]] Result<bool> detach_tc_shaper(const DatapathConfig& config);

// Whether the tc shaper's ifb device exists in this network namespace.
bool tc_shaper_present();

}  // namespace bwalloc
