// Conversions between the agent's types and the kernel map layouts of
// bpf/bwalloc_maps.h: addresses, policies (bits/s -> bytes/s, flags), and
// the per-CPU counter sum, the port-class bitmap. Pure, so the arithmetic is tested without a kernel.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "bwalloc_maps.h"

namespace bwalloc {

bwa_addr to_bwa_addr(const IpAddress& address);
IpAddress from_bwa_addr(const bwa_addr& addr);

// The map holds bytes per second and reads 0 as "unlimited", so a non-zero
// rate below 8 bit/s becomes 1 B/s (the slowest limit), never unlimited.
uint64_t rate_bytes_per_sec(uint64_t bits_per_sec);

// The kernel's policy value for a device holding EDT slot `slot`. Blocked
// priority sets BWA_POLICY_BLOCKED: the programs drop on the flag, not on
// the (informational) priority.
bwa_policy encode_policy(const DevicePolicy& policy, uint32_t slot);
// The reverse, for policies adopted from pinned maps after a restart. An
// out-of-range priority reads as Normal; the BLOCKED flag wins over it.
DevicePolicy decode_policy(const IpAddress& address, const bwa_policy& value);

// Sums one device's per-CPU counter values. The age is measured from the
// newest last_seen_ns of any CPU to `now_mono_ns` (CLOCK_MONOTONIC, the
// clock of bpf_ktime_get_ns); 0 when never seen or seen "in the future".
DeviceCounters sum_per_cpu_counters(const IpAddress& address, std::span<const bwa_counters> per_cpu,
                                    uint64_t now_mono_ns);

// The port map's contents: BWA_PORT_WORDS words, two class bits per
// protocol/port (bwa_port_word, bwa_port_shift): BWA_PORT_PRIORITY for
// `priority`, BWA_PORT_UNLIMITED for `unlimited`. Protocols other than TCP
// and UDP are skipped: the datapath gives them no class.
std::vector<uint64_t> port_class_bitmap(const std::vector<ProtocolPort>& priority,
                                        const std::vector<ProtocolPort>& unlimited);

}  // namespace bwalloc
