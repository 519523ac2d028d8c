// Map-level operations of the eBPF datapath: batch counter reads, policy
// dumps, exempt-port sync, and status collection from map fds (our own or
// opened from the pins by `bwalloc status`).
#pragma once

#include <bpf/libbpf.h>

#include <array>
#include <utility>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"
#include "agent/datapath/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "bwalloc_maps.h"

namespace bwalloc {

static_assert(sizeof(bwa_addr) == 16);
static_assert(sizeof(bwa_counters) == 13 * 8);
static_assert(sizeof(bwa_policy) == 24);
static_assert(sizeof(bwa_edt_state) == 8);
static_assert(sizeof(bwa_settings) == 24);
static_assert(sizeof(bwa_global) == 32);

inline constexpr std::array<const char*, 7> kMapNames = {"bwa_counters", "bwa_policy",   "bwa_edt",   "bwa_slot_addr",
                                                         "bwa_exempt",   "bwa_settings", "bwa_global"};

struct MapFds {
  int counters = -1;
  int policy = -1;
  int edt = -1;
  int slot_addr = -1;
  int exempt = -1;
  int settings = -1;
  int global = -1;
};

// The datapath's own maps in a BPF object (skipping libbpf's internal ones).
std::vector<bpf_map*> owned_maps(bpf_object* obj);

// One batched pass over the per-CPU counter map, CPUs summed.
[[nodiscard]] Result<std::vector<DeviceCounters>> read_all_counters(int counters_fd, uint64_t now_mono_ns);

[[nodiscard]] Result<std::vector<std::pair<IpAddress, bwa_policy>>> read_all_policies(int policy_fd);

// Makes the exempt map hold exactly `ports` (see exempt_bitmap). Each changed word is written
// whole with its final value, so a port that stays exempt never reads as
// paced, not even briefly.
[[nodiscard]] Result<void> sync_exempt_ports(int exempt_fd, const std::vector<ExemptPort>& ports);

// How many protocol/port pairs the exempt map holds (set bits).
uint32_t count_exempt_ports(int exempt_fd);

// Opens every pinned map by name; fails when the datapath is not pinned there.
[[nodiscard]] Result<MapFds> open_pinned_maps(const std::string& pin_dir);
void close_map_fds(MapFds& fds);

// Programs attached on the configured interfaces, map sizes and global counters.
DatapathStatus collect_status(const DatapathConfig& config, const MapFds& fds);

// Whether fq sits on every shaped interface, with an explanation.
std::pair<bool, std::string> describe_pacing(const DatapathConfig& config);

}  // namespace bwalloc
