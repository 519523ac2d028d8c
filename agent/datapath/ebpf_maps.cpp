// Map-level operations; see ebpf_maps.h.
#include "agent/datapath/ebpf_maps.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <bit>

#include "agent/common/log.h"
#include "agent/datapath/map_codec.h"
#include "agent/datapath/pins.h"

namespace bwalloc {

namespace {
std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }
}  // namespace

uint32_t count_map_entries(int fd, size_t key_size) {
  if (fd < 0) return 0;
  std::vector<uint8_t> key(key_size), next(key_size);
  uint32_t count = 0;
  void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    ++count;
    key = next;
    prev = key.data();
  }
  return count;
}

uint32_t map_max_entries(int fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return 0;
  return info.max_entries;
}

std::vector<bpf_map*> owned_maps(bpf_object* obj) {
  std::vector<bpf_map*> maps;
  bpf_map* map;
  bpf_object__for_each_map(map, obj) {
    if (std::string(bpf_map__name(map)).rfind("bwa_", 0) == 0) maps.push_back(map);
  }
  return maps;
}

Result<std::vector<DeviceCounters>> read_all_counters(int counters_fd, uint64_t now_mono_ns) {
  int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return make_error("count possible CPUs", errno_text(cpus));
  // Per-CPU values come back padded to 8 bytes each.
  const size_t stride = (sizeof(bwa_counters) + 7) / 8 * 8;
  uint32_t batch = 1024;
  std::vector<bwa_addr> keys(batch);
  std::vector<uint8_t> values(batch * cpus * stride);
  std::vector<DeviceCounters> devices;

  uint32_t in_token = 0, out_token = 0;
  bool first = true;
  for (;;) {
    uint32_t count = batch;
    LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int rc = bpf_map_lookup_batch(counters_fd, first ? nullptr : &in_token, &out_token, keys.data(), values.data(),
                                  &count, &opts);
    int err = rc ? errno : 0;
    if (rc && err == ENOSPC && count == 0) {
      // One hash bucket holds more entries than the buffer: grow and retry.
      batch *= 2;
      keys.resize(batch);
      values.resize(batch * cpus * stride);
      continue;
    }
    if (rc && err != ENOENT) return make_error("batch-read device counters", errno_text(err));
    std::vector<bwa_counters> per_cpu(cpus);
    for (uint32_t i = 0; i < count; ++i) {
      for (int cpu = 0; cpu < cpus; ++cpu) {
        const uint8_t* value = values.data() + (static_cast<size_t>(i) * cpus + cpu) * stride;
        std::memcpy(&per_cpu[cpu], value, sizeof(bwa_counters));
      }
      devices.push_back(sum_per_cpu_counters(from_bwa_addr(keys[i]), per_cpu, now_mono_ns));
    }
    if (rc) break;  // ENOENT: that was the last batch
    in_token = out_token;
    first = false;
  }
  return devices;
}

Result<std::vector<std::pair<IpAddress, bwa_policy>>> read_all_policies(int policy_fd) {
  std::vector<std::pair<IpAddress, bwa_policy>> policies;
  bwa_addr key{}, next{};
  void* prev = nullptr;
  while (bpf_map_get_next_key(policy_fd, prev, &next) == 0) {
    bwa_policy value{};
    if (bpf_map_lookup_elem(policy_fd, &next, &value) == 0) policies.emplace_back(from_bwa_addr(next), value);
    key = next;
    prev = &key;
  }
  if (errno != ENOENT) return make_error("read policies", errno_text(errno));
  return policies;
}

Result<void> sync_port_classes(int ports_fd, const std::vector<ProtocolPort>& priority,
                               const std::vector<ProtocolPort>& unlimited) {
  const std::vector<uint64_t> wanted = port_class_bitmap(priority, unlimited);
  for (uint32_t word = 0; word < wanted.size(); ++word) {
    uint64_t current = 0;
    if (bpf_map_lookup_elem(ports_fd, &word, &current) != 0) {
      return make_error("read port classes word " + std::to_string(word), errno_text(errno));
    }
    if (current == wanted[word]) continue;
    if (bpf_map_update_elem(ports_fd, &word, &wanted[word], BPF_ANY) != 0) {
      return make_error("write port classes word " + std::to_string(word), errno_text(errno));
    }
  }
  return {};
}

uint32_t count_classed_ports(int ports_fd) {
  if (ports_fd < 0) return 0;
  uint32_t count = 0;
  for (uint32_t word = 0; word < BWA_PORT_WORDS; ++word) {
    uint64_t bits = 0;
    if (bpf_map_lookup_elem(ports_fd, &word, &bits) != 0) continue;
    // Two bits per port: a port counts once whatever its classes.
    count += std::popcount((bits | bits >> 1) & 0x5555555555555555ull);
  }
  return count;
}

uint32_t next_policy_generation(int settings_fd) {
  bwa_settings current{};
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(settings_fd, &zero, &current) != 0) return 1;
  return current.policy_generation + 1;
}

Result<void> bump_policy_generation(int settings_fd) {
  bwa_settings settings{};
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(settings_fd, &zero, &settings) != 0) {
    return make_error("read datapath settings", errno_text(errno));
  }
  // The agent is the only writer of the settings map, from one thread at a
  // time, so read-modify-write loses nothing.
  ++settings.policy_generation;
  if (bpf_map_update_elem(settings_fd, &zero, &settings, BPF_ANY) != 0) {
    return make_error("write the policy generation", errno_text(errno));
  }
  return {};
}

PolicyGenerationBump::~PolicyGenerationBump() {
  if (auto bumped = bump_policy_generation(settings_fd_); !bumped) {
    log_warn("datapath", bumped.message() + "; policy changes apply within a jiffy instead of at once");
  }
}

Result<MapFds> open_pinned_maps(const std::string& pin_dir) {
  MapFds fds;
  int* slots[] = {&fds.counters, &fds.policy,   &fds.edt,    &fds.slot_addr,
                  &fds.ports,    &fds.settings, &fds.global, &fds.flows};
  for (size_t i = 0; i < kMapNames.size(); ++i) {
    std::string pin = pin_path(pin_dir, kMapNames[i]);
    *slots[i] = bpf_obj_get(pin.c_str());
    if (*slots[i] < 0) {
      int err = errno;
      close_map_fds(fds);
      return Error{"the datapath is not attached (no pinned map " + pin + ": " + errno_text(err) + ")"};
    }
  }
  return fds;
}

void close_map_fds(MapFds& fds) {
  for (int* fd :
       {&fds.counters, &fds.policy, &fds.edt, &fds.slot_addr, &fds.ports, &fds.settings, &fds.global, &fds.flows}) {
    if (*fd >= 0) close(*fd);
    *fd = -1;
  }
}

}  // namespace bwalloc
