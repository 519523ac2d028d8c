// Datapath cost: average ns per packet of each bwalloc program through
// BPF_PROG_TEST_RUN at 1, 1,000 and 65,536 tracked devices, and with 1,000
// active flows in one device, against a minimal parse-and-count program at
// the same hook (XDP or tc; for paced egress it also reads the clock, as any
// EDT pacer must) measured in the same run, printed as ratios (the machine
// is shared and noisy: only ratios compare, so each is the median of rounds
// that run the baseline and the program back to back).
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "bwalloc.skel.h"
#include "bwalloc_maps.h"
#include "minimal.skel.h"
#include "tests/bpf/packet_builder.h"

namespace {

constexpr int kRepeat = 200000;
constexpr int kRounds = 9;

// One run of `repeat` packets: ns per packet (-1 on failure).
double ns_per_packet(int prog_fd, const std::vector<uint8_t>& packet, bool skb, int repeat = kRepeat) {
  __sk_buff ctx{};
  LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_size_in = static_cast<uint32_t>(packet.size()),
              .repeat = static_cast<uint32_t>(repeat));
  if (skb) {
    opts.ctx_in = &ctx;
    opts.ctx_size_in = sizeof ctx;
  }
  if (bpf_prog_test_run_opts(prog_fd, &opts) != 0) {
    std::fprintf(stderr, "test run failed: %s\n", std::strerror(errno));
    return -1;
  }
  return opts.duration;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

struct Measurement {
  double ns;        // median over the rounds
  double baseline;  // median over the rounds
  double ratio;     // median of the per-round ratios
};

// kRounds rounds, each the baseline then the program back to back, so a
// burst of load from other work on the machine hits both sides of a ratio.
// With several packets (flows), each round runs every packet kRepeat /
// packets.size() times and averages them.
double ns_per_packet(int prog_fd, const std::vector<std::vector<uint8_t>>& packets, bool skb) {
  const int repeat = std::max(1, kRepeat / static_cast<int>(packets.size()));
  double sum = 0;
  for (const auto& packet : packets) {
    double ns = ns_per_packet(prog_fd, packet, skb, repeat);
    if (ns < 0) return -1;
    sum += ns;
  }
  return sum / static_cast<double>(packets.size());
}

Measurement measure(int prog_fd, const std::vector<std::vector<uint8_t>>& packets, int baseline_fd,
                    const std::vector<uint8_t>& baseline_packet, bool skb) {
  std::vector<double> ns, base, ratio;
  for (int r = 0; r < kRounds; ++r) {
    base.push_back(ns_per_packet(baseline_fd, baseline_packet, skb));
    ns.push_back(ns_per_packet(prog_fd, packets, skb));
    ratio.push_back(base.back() > 0 ? ns.back() / base.back() : 0);
  }
  return {median(ns), median(base), median(ratio)};
}

// Downloads to the newest device from `flows` different server ports.
std::vector<std::vector<uint8_t>> flow_packets(int flows) {
  std::vector<std::vector<uint8_t>> packets;
  for (int f = 0; f < flows; ++f) {
    bwalloc::test::PacketSpec spec{
        false, "198.51.100.2", "10.0.0.100", 6, static_cast<uint16_t>(10000 + f), 40000, 1400, {}};
    packets.push_back(bwalloc::test::build_packet(spec));
  }
  return packets;
}

void fill_devices(bwalloc_bpf* skel, int devices) {
  int cpus = libbpf_num_possible_cpus();
  std::vector<bwa_counters> zero(cpus);
  for (int i = 0; i < devices; ++i) {
    bwa_addr key{};
    key.bytes[10] = key.bytes[11] = 0xff;
    uint32_t v4 = htonl(0x0a000000u + 100 + static_cast<uint32_t>(i));
    std::memcpy(&key.bytes[12], &v4, 4);
    bpf_map_update_elem(bpf_map__fd(skel->maps.bwa_counters), &key, zero.data(), BPF_ANY);
    bwa_policy policy{};
    policy.rate_bytes_per_sec[0] = policy.rate_bytes_per_sec[1] = 12'500'000'000ull;  // effectively unlimited pacing
    policy.slot = static_cast<uint32_t>(i % (BWA_MAX_SLOTS - 1)) + 1;
    bpf_map_update_elem(bpf_map__fd(skel->maps.bwa_policy), &key, &policy, BPF_ANY);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "datapath_cost: needs root (BPF_PROG_TEST_RUN)\n");
    return 1;
  }
  const std::string out_dir = argc > 1 ? argv[1] : "bench/results";
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });

  auto* minimal = minimal_bpf__open_and_load();
  if (!minimal) {
    std::fprintf(stderr, "cannot load the minimal program\n");
    return 1;
  }
  // The packet comes from the most recently added device, so lookups hit
  // a populated map the way live traffic does.
  bwalloc::test::PacketSpec up_spec{false, "10.0.0.100", "198.51.100.2", 6, 40000, 5201, 1400, {}};
  bwalloc::test::PacketSpec down_spec{false, "198.51.100.2", "10.0.0.100", 6, 5201, 40000, 1400, {}};
  auto up = bwalloc::test::build_packet(up_spec);
  auto down = bwalloc::test::build_packet(down_spec);

  struct Row {
    int devices;
    int flows;
    std::string program;
    double ns;
    double baseline;
    double ratio;
    const char* hook;
  };
  std::vector<Row> rows;
  struct Scenario {
    int devices;
    int flows;  // active flows of the measured device (download)
  };
  for (Scenario scenario :
       {Scenario{1, 1}, Scenario{1000, 1}, Scenario{65536, 1}, Scenario{1, 1000}, Scenario{65536, 1000}}) {
    const int devices = scenario.devices;
    auto* skel = bwalloc_bpf__open_and_load();
    if (!skel) {
      std::fprintf(stderr, "cannot load bwalloc's programs\n");
      return 1;
    }
    bwa_settings settings{20'000'000,         2'000'000, BWA_SETTING_ECN | BWA_SETTING_TC_INGRESS_COUNTS,
                          BWA_LAYOUT_VERSION, 0,         0};
    uint32_t zero = 0;
    bpf_map_update_elem(bpf_map__fd(skel->maps.bwa_settings), &zero, &settings, BPF_ANY);
    fill_devices(skel, devices);
    // Baseline measured alternately with each program, in the same conditions.
    struct Prog {
      const char* name;
      bpf_program* prog;
      std::vector<std::vector<uint8_t>> packets;
      bool skb;
      bpf_program* baseline;
      const char* baseline_name;
    };
    std::vector<Prog> progs;
    if (scenario.flows == 1) {
      progs.push_back(
          {"bwa_xdp_ingress", skel->progs.bwa_xdp_ingress, {up}, false, minimal->progs.minimal_count, "xdp"});
      progs.push_back(
          {"bwa_tc_ingress", skel->progs.bwa_tc_ingress, {up}, true, minimal->progs.minimal_count_tc, "tc"});
      progs.push_back(
          {"bwa_tc_egress", skel->progs.bwa_tc_egress, {down}, true, minimal->progs.minimal_pace_tc, "tc + clock"});
    } else {
      progs.push_back({"bwa_tc_egress", skel->progs.bwa_tc_egress, flow_packets(scenario.flows), true,
                       minimal->progs.minimal_pace_tc, "tc + clock"});
    }
    for (const Prog& p : progs) {
      Measurement m = measure(bpf_program__fd(p.prog), p.packets, bpf_program__fd(p.baseline), up, p.skb);
      rows.push_back({devices, scenario.flows, p.name, m.ns, m.baseline, m.ratio, p.baseline_name});
    }
    bwalloc_bpf__destroy(skel);
  }
  minimal_bpf__destroy(minimal);

  std::string md =
      "| tracked devices | active flows (measured device) | program | ns/packet | minimal program ns/packet (same "
      "hook) | ratio |\n"
      "|---|---|---|---|---|---|\n";
  std::string json = "[";
  for (const auto& r : rows) {
    char line[256];
    std::snprintf(line, sizeof line, "| %d | %d | %s | %.0f | %.0f (%s) | %.2f |\n", r.devices, r.flows,
                  r.program.c_str(), r.ns, r.baseline, r.hook, r.ratio);
    md += line;
    std::snprintf(line, sizeof line,
                  "%s{\"devices\":%d,\"flows\":%d,\"program\":\"%s\",\"ns\":%.1f,\"baseline_ns\":%.1f,"
                  "\"ratio\":%.3f,\"baseline_hook\":\"%s\"}",
                  json.size() > 1 ? "," : "", r.devices, r.flows, r.program.c_str(), r.ns, r.baseline, r.ratio, r.hook);
    json += line;
  }
  json += "]\n";
  std::fputs(md.c_str(), stdout);
  std::ofstream(out_dir + "/datapath_cost.md") << md;
  std::ofstream(out_dir + "/datapath_cost.json") << json;
  return 0;
}
