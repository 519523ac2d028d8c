// Map-level operations of the eBPF datapath: batch counter reads, policy
// dumps, port-class sync, the policy generation, and map fds (our own or
// opened from the pins by `bwalloc status`).
#pragma once

#include <bpf/libbpf.h>

#include <array>
#include <utility>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "bwalloc_maps.h"

namespace bwalloc {

static_assert(sizeof(bwa_addr) == 16);
static_assert(sizeof(bwa_counters) == 19 * 8 + 40);
static_assert(sizeof(bwa_policy_cache) == 40);
static_assert(sizeof(bwa_policy) == 24);
static_assert(sizeof(bwa_edt_state) == 24);
static_assert(sizeof(bwa_flow_set) == 64);  // one cache line per set
static_assert(sizeof(bwa_settings) == 32);
static_assert(sizeof(bwa_global) == 32);

inline constexpr std::array<const char*, 8> kMapNames = {"bwa_counters", "bwa_policy",   "bwa_edt",    "bwa_slot_addr",
                                                         "bwa_ports",    "bwa_settings", "bwa_global", "bwa_flows"};
// Pins of maps that older layouts had and this one does not: removed on load
// and on detach so nothing of an upgraded install stays behind.
inline constexpr std::array<const char*, 1> kRetiredMapNames = {"bwa_exempt"};

struct MapFds {
  int counters = -1;
  int policy = -1;
  int edt = -1;
  int slot_addr = -1;
  int ports = -1;
  int settings = -1;
  int global = -1;
  int flows = -1;
};

// Entries in a hash or LRU map (by walking its keys) and its capacity; 0
// when the fd is not open.
uint32_t count_map_entries(int fd, size_t key_size);
uint32_t map_max_entries(int fd);

// The datapath's own maps in a BPF object (skipping libbpf's internal ones).
std::vector<bpf_map*> owned_maps(bpf_object* obj);

// One batched pass over the per-CPU counter map, CPUs summed.
[[nodiscard]] Result<std::vector<DeviceCounters>> read_all_counters(int counters_fd, uint64_t now_mono_ns);

[[nodiscard]] Result<std::vector<std::pair<IpAddress, bwa_policy>>> read_all_policies(int policy_fd);

// Makes the port map hold exactly these classes (see port_class_bitmap). Each changed word is
// written whole with its final value, so a port whose class stays the same never reads
// otherwise, not even briefly.
[[nodiscard]] Result<void> sync_port_classes(int ports_fd, const std::vector<ProtocolPort>& priority,
                                             const std::vector<ProtocolPort>& unlimited);

// The programs keep a per-CPU copy of each policy (bwa_policy_cache) while
// bwa_settings.policy_generation stays the same. The generation to write
// next: the current one plus one (1 when the map cannot be read).
uint32_t next_policy_generation(int settings_fd);

// Changes the policy generation, so every copy is re-read at its next
// packet. Only the generation changes; the other settings are kept.
[[nodiscard]] Result<void> bump_policy_generation(int settings_fd);

// Bumps the policy generation when it goes out of scope, so policy writes
// apply at once on every path out of a function, errors included (a bump
// that fails leaves copies at most a jiffy old: logged, not fatal).
class PolicyGenerationBump {
 public:
  explicit PolicyGenerationBump(int settings_fd) : settings_fd_(settings_fd) {}
  ~PolicyGenerationBump();
  PolicyGenerationBump(const PolicyGenerationBump&) = delete;
  PolicyGenerationBump& operator=(const PolicyGenerationBump&) = delete;

 private:
  int settings_fd_;
};

// How many protocol/port pairs have a class in the port map.
uint32_t count_classed_ports(int ports_fd);

// Opens every pinned map by name; fails when the datapath is not pinned there.
[[nodiscard]] Result<MapFds> open_pinned_maps(const std::string& pin_dir);
void close_map_fds(MapFds& fds);

}  // namespace bwalloc
