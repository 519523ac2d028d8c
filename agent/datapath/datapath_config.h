// Settings of the kernel datapath, part of the agent's Config aggregate.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bwalloc {

enum class IngressAttachMode { Auto, XdpNative, XdpGeneric, TcOnly };

// A TCP or UDP port, as the port lists of the settings hold them.
struct ProtocolPort {
  uint8_t protocol = 6;  // IPPROTO_TCP (6) or IPPROTO_UDP (17)
  uint16_t port = 0;
  bool operator==(const ProtocolPort&) const = default;
};

// DNS, SSH, HTTPS and NTP over TCP and UDP: the original system's
// prioritised ports. Counted against the limit like every byte; their flows
// take the fast lane while they are sparse.
inline std::vector<ProtocolPort> default_priority_ports() {
  std::vector<ProtocolPort> ports;
  for (uint16_t p : {53, 22, 443, 123}) {
    ports.push_back({6, p});
    ports.push_back({17, p});
  }
  return ports;
}

struct DatapathConfig {
  std::string lan_interface = "lan0";
  std::string wan_interface = "wan0";  // empty: no upload shaping
  IngressAttachMode ingress_mode = IngressAttachMode::Auto;
  std::string pin_dir = "/sys/fs/bpf/bwalloc";
  uint32_t max_devices = 65536;
  uint64_t horizon_ns = 20'000'000;   // 20 ms: bounded queueing delay on a router
  uint64_t ce_target_ns = 2'000'000;  // 2 ms: mark CE before dropping
  // Without fq nothing waits for its departure time, so the horizon only
  // sets the policer's burst; TCP needs a burst of the order of rate x RTT.
  uint64_t policer_burst_ns = 300'000'000;
  bool ecn = true;
  std::vector<ProtocolPort> priority_ports = default_priority_ports();
  // Never limited (counted only): a way around every limit, so empty unless
  // an operator lists a port (the router's own management port, say).
  std::vector<ProtocolPort> unlimited_ports;
  bool install_fq = true;  // put fq (or mq+fq) on shaped interfaces when the kernel has it
  // Where the datapath remembers what it changed (previous root qdiscs, the
  // clsact it created) so detach restores exactly that; tmpfs like the pins.
  std::string state_dir = "/run/bwalloc";
  // The pcap fallback's shaper logs its tc commands instead of running them.
  bool shaper_dry_run = false;
};

}  // namespace bwalloc
