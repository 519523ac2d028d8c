// Builds the Ethernet frames the BPF program tests feed to
// BPF_PROG_TEST_RUN: IPv4 (with options) or IPv6 (with extension headers),
// VLAN tags, TCP/UDP/ICMP, and ECN bits. Checksums are left zero: the
// programs never look at them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace bwalloc::test {

struct PacketSpec {
  bool ipv6 = false;
  std::string src = "10.10.0.5";
  std::string dst = "198.51.100.2";
  uint8_t protocol = 6;  // 6 TCP, 17 UDP, 1 ICMP, 58 ICMPv6
  uint16_t src_port = 40000;
  uint16_t dst_port = 5201;
  size_t payload = 100;
  std::vector<uint16_t> vlan_tpids;  // outermost first: 0x88a8, 0x8100
  size_t ipv4_option_bytes = 0;      // multiple of 4, up to 40
  int ipv6_hop_by_hop_headers = 0;   // each 8 bytes
  uint8_t ecn = 0;                   // 0 not-ECT, 2 ECT(0), 3 CE
};

std::vector<uint8_t> build_packet(const PacketSpec& spec);

// A frame that is not IP at all (ARP request).
std::vector<uint8_t> build_arp();

}  // namespace bwalloc::test
