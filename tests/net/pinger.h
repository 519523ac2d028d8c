// A pinger for latency measurements in a network namespace: ICMP echo
// requests on a fixed schedule from a raw socket, replies matched by id and
// sequence. Unlike iputils ping with a short interval, it never spins
// between echoes (ping busy-waits the last 10 ms before each send when no
// reply is outstanding, which under qemu TCG takes a good part of the
// emulated CPUs from the datapath being measured) and it keeps to the
// schedule after a late wake-up (ping drifts: 300 echoes 20 ms apart took
// 13 s there). Needs root (a raw socket).
#pragma once

#include <string>
#include <vector>

namespace bwalloc::test {

struct PingRun {
  bool ok = false;
  std::string error;
  int sent = 0;
  int received = 0;             // distinct echoes answered before the deadline
  std::vector<double> rtts_ms;  // one per answered echo, in the order sent
  double send_seconds = 0;      // from the first echo to the last
  double seconds = 0;           // from the first echo to the last reply or the deadline
  int lost() const { return sent - received; }
};

// Sends `count` echo requests of 56 payload bytes from namespace `ns` to
// `ipv4`, `interval_s` apart (echo i leaves at start + i x interval), and
// waits up to `timeout_s` after the last one for replies.
PingRun ping_from(const std::string& ns, const std::string& ipv4, int count, double interval_s, double timeout_s = 2.0);

}  // namespace bwalloc::test
