// libFuzzer harness for the datapath's packet parser: random packets run
// through the real programs (bwalloc.bpf.o via its skeleton, loaded into
// the kernel) with BPF_PROG_TEST_RUN. The first input byte picks the
// program (XDP ingress, tc ingress, tc egress, WAN egress) and, for the WAN
// side, the upload mark's slot; the rest is the packet. A few devices have
// policies: one Blocked, two paced into tiny rates (so the EDT horizon
// drops), one exempt from pacing; DNS, SSH, HTTPS and NTP are priority
// ports and 8443 is unlimited. After every packet:
//   - the verdict is one the hook allows (XDP_PASS/XDP_DROP, TC_ACT_OK/SHOT);
//   - all counted bytes grew by at most the packet's length and packets by
//     at most one (a packet is counted for one device, once);
//   - priority and unlimited bytes each grew by no more than counted bytes;
//   - a dropped packet added exactly one blocked, horizon or fairness drop, and a
//     passed one none.
// Needs root (bpf()); scripts/fuzz.sh skips it otherwise.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "agent/common/ip_address.h"
#include "bwalloc.skel.h"
#include "bwalloc_maps.h"

namespace {

using bwalloc::IpAddress;

bwalloc_bpf* skel = nullptr;
int cpus = 0;

struct Device {
  const char* ip;
  uint64_t rate;  // bytes/s each direction; 0 = unlimited
  uint32_t slot;
  uint8_t flags;
};
// The seeds use these addresses, so the fuzzer starts at every policy.
constexpr Device kDevices[] = {
    {"10.10.0.5", 1000, 1, 0},                // paced hard: horizon drops
    {"10.10.0.6", 0, 0, BWA_POLICY_BLOCKED},  // Blocked
    {"fd00:10::5", 2000, 2, 0},               // IPv6, paced
    {"10.10.0.7", 1000, 3, BWA_POLICY_EXEMPT_ALL},
};

bwa_addr addr_of(const char* text) {
  bwa_addr a{};
  auto ip = IpAddress::parse(text);
  if (!ip) std::abort();
  std::memcpy(a.bytes, ip->bytes().data(), 16);
  return a;
}

int fd(bpf_map* map) { return bpf_map__fd(map); }

void must(int rc, const char* what) {
  if (rc != 0) {
    std::fprintf(stderr, "bpf fuzzer: %s: %s\n", what, std::strerror(errno));
    std::abort();
  }
}

struct Totals {
  uint64_t bytes = 0, packets = 0, priority = 0, unlimited = 0, drops = 0;
  size_t entries = 0;
};

// Sums every counter entry over CPUs and directions.
Totals totals() {
  Totals t;
  bwa_addr key{}, next{};
  std::vector<bwa_counters> per_cpu(static_cast<size_t>(cpus));
  bwa_addr* prev = nullptr;
  while (bpf_map_get_next_key(fd(skel->maps.bwa_counters), prev, &next) == 0) {
    key = next;
    prev = &key;
    if (bpf_map_lookup_elem(fd(skel->maps.bwa_counters), &key, per_cpu.data()) != 0) continue;
    ++t.entries;
    for (const auto& c : per_cpu) {
      for (int d = 0; d < 2; ++d) {
        t.bytes += c.bytes[d];
        t.packets += c.packets[d];
        t.priority += c.priority_bytes[d];
        t.unlimited += c.unlimited_bytes[d];
        t.drops += c.blocked_drops[d] + c.horizon_drops[d] + c.fair_drops[d];
      }
    }
  }
  return t;
}

// Empties the counters (so iterating stays cheap and the LRU never evicts,
// which would make the sums go down) and gives the paced devices an entry
// again: the WAN program only looks entries up.
void reset_counters() {
  bwa_addr key{};
  while (bpf_map_get_next_key(fd(skel->maps.bwa_counters), nullptr, &key) == 0) {
    bpf_map_delete_elem(fd(skel->maps.bwa_counters), &key);
  }
  std::vector<bwa_counters> zero(static_cast<size_t>(cpus));
  for (const auto& d : kDevices) {
    bwa_addr a = addr_of(d.ip);
    must(bpf_map_update_elem(fd(skel->maps.bwa_counters), &a, zero.data(), BPF_ANY), "seed counter entry");
  }
}

[[noreturn]] void finding(const char* what, int program, size_t size, int verdict, const Totals& before,
                          const Totals& after) {
  std::fprintf(stderr,
               "bpf fuzzer: %s (program %d, %zu bytes, verdict %d; bytes %llu->%llu packets %llu->%llu "
               "priority %llu->%llu unlimited %llu->%llu drops %llu->%llu)\n",
               what, program, size, verdict, (unsigned long long)before.bytes, (unsigned long long)after.bytes,
               (unsigned long long)before.packets, (unsigned long long)after.packets,
               (unsigned long long)before.priority, (unsigned long long)after.priority,
               (unsigned long long)before.unlimited, (unsigned long long)after.unlimited,
               (unsigned long long)before.drops, (unsigned long long)after.drops);
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  skel = bwalloc_bpf__open_and_load();
  if (!skel) {
    std::fprintf(stderr, "bpf fuzzer: cannot load bwalloc.bpf.o (root and bpf() needed): %s\n", std::strerror(errno));
    std::abort();
  }
  cpus = libbpf_num_possible_cpus();
  uint32_t zero = 0;
  bwa_settings s{20'000'000, 2'000'000, BWA_SETTING_ECN | BWA_SETTING_TC_INGRESS_COUNTS, BWA_LAYOUT_VERSION, 0, 0};
  must(bpf_map_update_elem(fd(skel->maps.bwa_settings), &zero, &s, BPF_ANY), "settings");
  for (const auto& d : kDevices) {
    bwa_policy p{};
    p.rate_bytes_per_sec[BWA_DIR_UP] = d.rate;
    p.rate_bytes_per_sec[BWA_DIR_DOWN] = d.rate;
    p.slot = d.slot;
    p.flags = d.flags;
    bwa_addr key = addr_of(d.ip);
    must(bpf_map_update_elem(fd(skel->maps.bwa_policy), &key, &p, BPF_ANY), "policy");
    if (d.slot) must(bpf_map_update_elem(fd(skel->maps.bwa_slot_addr), &d.slot, &key, BPF_ANY), "slot");
  }
  auto classify = [](uint16_t port, uint64_t port_class) {
    for (int udp : {0, 1}) {
      uint32_t word = bwa_port_word(udp, port);
      uint64_t bits = 0;
      bpf_map_lookup_elem(fd(skel->maps.bwa_ports), &word, &bits);
      bits |= port_class << bwa_port_shift(port);
      must(bpf_map_update_elem(fd(skel->maps.bwa_ports), &word, &bits, BPF_ANY), "port class");
    }
  };
  for (uint16_t port : {53, 22, 443, 123}) classify(port, BWA_PORT_PRIORITY);
  classify(8443, BWA_PORT_UNLIMITED);
  reset_counters();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const int program = data[0] & 3;
  const uint32_t slot = (data[0] >> 2) & 7;  // 0-7: slots 1-3 are real, the rest are not
  std::vector<uint8_t> packet(data + 1, data + size);
  if (packet.size() < 14) return 0;  // BPF_PROG_TEST_RUN refuses less than an Ethernet header

  Totals before = totals();
  if (before.entries > 64) {
    reset_counters();
    before = totals();
  }
  std::vector<uint8_t> out(packet.size() + 256);
  __sk_buff ctx{};
  ctx.mark = slot << BWA_MARK_SHIFT;
  int prog_fd = 0;
  switch (program) {
    case 0:
      prog_fd = bpf_program__fd(skel->progs.bwa_xdp_ingress);
      break;
    case 1:
      prog_fd = bpf_program__fd(skel->progs.bwa_tc_ingress);
      break;
    case 2:
      prog_fd = bpf_program__fd(skel->progs.bwa_tc_egress);
      break;
    default:
      prog_fd = bpf_program__fd(skel->progs.bwa_tc_wan_egress);
      break;
  }
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = out.data(),
              .data_size_in = static_cast<uint32_t>(packet.size()), .data_size_out = static_cast<uint32_t>(out.size()));
  if (program != 0) {
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
  }
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    // The kernel's test-run path refuses some frames before any program
    // runs (e.g. an IPv4 ethertype with less than an IPv4 header for tc).
    if (errno == EINVAL) return 0;
    std::fprintf(stderr, "bpf fuzzer: BPF_PROG_TEST_RUN (program %d, %zu bytes): %s\n", program, packet.size(),
                 std::strerror(errno));
    std::abort();
  }
  const int verdict = static_cast<int>(opts.retval);
  const Totals after = totals();
  const bool dropped = program == 0 ? verdict == XDP_DROP : verdict == TC_ACT_SHOT;
  const bool passed = program == 0 ? verdict == XDP_PASS : verdict == TC_ACT_OK;
  if (!dropped && !passed) finding("verdict the hook does not allow", program, packet.size(), verdict, before, after);
  if (after.bytes < before.bytes || after.bytes - before.bytes > packet.size()) {
    finding("counted bytes moved by more than the packet", program, packet.size(), verdict, before, after);
  }
  if (after.packets < before.packets || after.packets - before.packets > 1) {
    finding("counted packets moved by more than one", program, packet.size(), verdict, before, after);
  }
  if (after.priority - before.priority > after.bytes - before.bytes ||
      after.unlimited - before.unlimited > after.bytes - before.bytes) {
    finding("priority or unlimited bytes grew more than counted bytes", program, packet.size(), verdict, before, after);
  }
  if (after.drops - before.drops != (dropped ? 1u : 0u)) {
    finding("drop counters disagree with the verdict", program, packet.size(), verdict, before, after);
  }
  return 0;
}
