// The pcap datapath's header parser: a data table of frames (built by the
// BPF tests' packet builder) and what the parser must make of them.
#include <gtest/gtest.h>

#include "agent/fallback/packet_parser.h"
#include "tests/bpf/packet_builder.h"

namespace bwalloc {
namespace {

using test::build_arp;
using test::build_packet;
using test::PacketSpec;

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

ParseResult parse(const std::vector<uint8_t>& frame) {
  return parse_frame(frame.data(), frame.size(), static_cast<uint32_t>(frame.size()));
}

TEST(PacketParser, Ipv4Tcp) {
  auto frame =
      build_packet({.src = "10.10.0.5", .dst = "198.51.100.2", .protocol = 6, .src_port = 40000, .dst_port = 5201});
  auto r = parse(frame);
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_EQ(r.packet.src, ip("10.10.0.5"));
  EXPECT_EQ(r.packet.dst, ip("198.51.100.2"));
  EXPECT_EQ(r.packet.protocol, 6);
  EXPECT_TRUE(r.packet.has_ports);
  EXPECT_EQ(r.packet.src_port, 40000);
  EXPECT_EQ(r.packet.dst_port, 5201);
  EXPECT_EQ(r.packet.wire_length, frame.size());
}

TEST(PacketParser, WireLengthIsPcapsNotTheCapturedLength) {
  auto frame = build_packet({.payload = 1400});
  auto r = parse_frame(frame.data(), 128, static_cast<uint32_t>(frame.size()));  // snap length 128
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_EQ(r.packet.wire_length, frame.size());
  EXPECT_EQ(r.packet.dst_port, 5201);
}

TEST(PacketParser, Ipv4OptionsAreSkippedByIhl) {
  auto r = parse(build_packet({.protocol = 17, .src_port = 53, .dst_port = 33000, .ipv4_option_bytes = 12}));
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_EQ(r.packet.protocol, 17);
  EXPECT_EQ(r.packet.src_port, 53);
  EXPECT_EQ(r.packet.dst_port, 33000);
}

TEST(PacketParser, Ipv6WithExtensionHeaders) {
  auto r = parse(build_packet({.ipv6 = true,
                               .src = "fd00:10::12",
                               .dst = "fd00:51::2",
                               .protocol = 6,
                               .src_port = 443,
                               .dst_port = 50000,
                               .ipv6_hop_by_hop_headers = 2}));
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_EQ(r.packet.src, ip("fd00:10::12"));
  EXPECT_EQ(r.packet.dst, ip("fd00:51::2"));
  EXPECT_EQ(r.packet.protocol, 6);
  EXPECT_EQ(r.packet.src_port, 443);
  EXPECT_EQ(r.packet.dst_port, 50000);
}

TEST(PacketParser, VlanAndQinQ) {
  for (auto tags : {std::vector<uint16_t>{0x8100}, std::vector<uint16_t>{0x88a8, 0x8100}}) {
    auto r = parse(build_packet({.src = "10.10.0.7", .vlan_tpids = tags}));
    ASSERT_EQ(r.outcome, ParseOutcome::Ok) << tags.size() << " tags";
    EXPECT_EQ(r.packet.src, ip("10.10.0.7"));
    EXPECT_EQ(r.packet.dst_port, 5201);
  }
  auto v6 =
      parse(build_packet({.ipv6 = true, .src = "fd00:10::3", .dst = "fd00:51::2", .vlan_tpids = {0x88a8, 0x8100}}));
  ASSERT_EQ(v6.outcome, ParseOutcome::Ok);
  EXPECT_EQ(v6.packet.src, ip("fd00:10::3"));
}

TEST(PacketParser, ThreeTagsAreMalformed) {
  EXPECT_EQ(parse(build_packet({.vlan_tpids = {0x88a8, 0x8100, 0x8100}})).outcome, ParseOutcome::Malformed);
}

TEST(PacketParser, NonIpIsNotIp) { EXPECT_EQ(parse(build_arp()).outcome, ParseOutcome::NotIp); }

TEST(PacketParser, IcmpHasNoPorts) {
  auto r = parse(build_packet({.protocol = 1}));
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_EQ(r.packet.protocol, 1);
  EXPECT_FALSE(r.packet.has_ports);
}

TEST(PacketParser, TruncatedAtEveryLengthNeverReadsPastTheEnd) {
  const std::vector<std::vector<uint8_t>> frames = {
      build_packet({}),
      build_packet({.ipv6 = true, .src = "fd00:10::2", .dst = "fd00:51::2", .ipv6_hop_by_hop_headers = 1}),
      build_packet({.vlan_tpids = {0x88a8, 0x8100}, .ipv4_option_bytes = 8})};
  for (const auto& frame : frames) {
    // The full header area is needed for Ok; any shorter capture is Malformed.
    const auto full = parse(frame);
    ASSERT_EQ(full.outcome, ParseOutcome::Ok);
    size_t shortest_ok = frame.size();
    for (size_t cut = 0; cut <= frame.size(); ++cut) {
      std::vector<uint8_t> prefix(frame.begin(), frame.begin() + static_cast<long>(cut));  // exact-size copy for ASan
      auto r = parse_frame(prefix.data(), prefix.size(), static_cast<uint32_t>(frame.size()));
      if (r.outcome == ParseOutcome::Ok) {
        shortest_ok = std::min(shortest_ok, cut);
        EXPECT_EQ(r.packet.dst_port, full.packet.dst_port);
      } else {
        EXPECT_EQ(r.outcome, ParseOutcome::Malformed) << "cut at " << cut;
        EXPECT_LT(cut, shortest_ok) << "a longer capture failed after a shorter one parsed";
      }
    }
    EXPECT_LT(shortest_ok, frame.size()) << "the payload must not be needed";
  }
}

TEST(PacketParser, BadVersionIsMalformed) {
  auto frame = build_packet({});
  frame[14] = 0x65;  // version 6 in an IPv4 ethertype
  EXPECT_EQ(parse(frame).outcome, ParseOutcome::Malformed);
  auto short_ihl = build_packet({});
  short_ihl[14] = 0x44;  // IHL 4 (< 5)
  EXPECT_EQ(parse(short_ihl).outcome, ParseOutcome::Malformed);
}

TEST(PacketParser, LaterFragmentHasNoPorts) {
  auto frame = build_packet({.protocol = 17});
  frame[14 + 6] = 0x00;
  frame[14 + 7] = 0x10;  // fragment offset 16 (x 8 bytes)
  auto r = parse(frame);
  ASSERT_EQ(r.outcome, ParseOutcome::Ok);
  EXPECT_FALSE(r.packet.has_ports);
  EXPECT_EQ(r.packet.protocol, 17);
}

}  // namespace
}  // namespace bwalloc
