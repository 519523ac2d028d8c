// Latency comparison of shaping_bench (`--scenario latency`): every device
// held at one rate (5 Mbit/s) by bwalloc's agent (EDT under fq) and by HTB
// with cake, fq_codel and pfifo leaves, on the same virtual LAN in one run;
// per method the idle RTT, then a device downloading with 4 TCP flows of
// different RTTs while it and another device ping and a small UDP flow
// (VoIP-like) reaches it, then TCP and UDP downloads from port 443. Prints
// one JSON document between marker lines; asserts nothing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bwalloc::bench {

struct LatencyOptions {
  uint64_t limit_mbit = 5;
  double seconds = 10;  // each bulk, TCP 443 and UDP 443 run (plus 1 s omitted)
  int pings = 300;
  double ping_interval_s = 0.02;
  int idle_pings = 50;
  std::vector<int> flow_delays_ms = {5, 10, 20, 40};  // extra RTT of each bulk flow (netem in inet)
  double udp443_offered_mbit = 50;
  std::vector<std::string> methods = {"edt", "htb_cake", "htb_fq_codel", "htb_pfifo"};
  std::string kernel_label;
  std::string note;  // printed with the figures (e.g. the host's load around a VM run)
};

// Runs the comparison; 0 after printing the JSON, 77 when this machine
// cannot run namespace benches, 1 when the virtual LAN cannot be built.
int run_latency_compare(const LatencyOptions& options);

}  // namespace bwalloc::bench
