// Per-device counting of the pcap datapath: direction by LAN membership,
// the router's own addresses left out, priority and unlimited ports,
// blocked devices and the bound on devices.
#include <gtest/gtest.h>

#include "agent/fallback/capture_counters.h"

namespace bwalloc {
namespace {

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

LanAddresses lan() {
  LanAddresses l;
  l.own = {ip("10.10.0.1"), ip("fd00:10::1")};
  l.prefixes = {make_lan_prefix(ip("10.10.0.1"), 24), make_lan_prefix(ip("fd00:10::1"), 64)};
  return l;
}

ParsedPacket packet(const char* src, const char* dst, uint32_t length, uint8_t protocol = 6, uint16_t sport = 40000,
                    uint16_t dport = 5201) {
  return ParsedPacket{ip(src), ip(dst), length, protocol, true, sport, dport};
}

const DeviceCounters* find(const std::vector<DeviceCounters>& all, const char* address) {
  for (const auto& c : all) {
    if (c.address == ip(address)) return &c;
  }
  return nullptr;
}

TEST(LanPrefix, ContainsByFamilyLength) {
  auto v4 = make_lan_prefix(ip("10.10.0.77"), 24);
  EXPECT_EQ(v4.length, 120);
  EXPECT_EQ(v4.network, ip("10.10.0.0"));
  EXPECT_TRUE(v4.contains(ip("10.10.0.200")));
  EXPECT_FALSE(v4.contains(ip("10.10.1.1")));
  EXPECT_FALSE(v4.contains(ip("fd00:10::5")));
  auto odd = make_lan_prefix(ip("192.168.7.130"), 25);
  EXPECT_TRUE(odd.contains(ip("192.168.7.129")));
  EXPECT_FALSE(odd.contains(ip("192.168.7.1")));
  auto v6 = make_lan_prefix(ip("fd00:10::1"), 64);
  EXPECT_TRUE(v6.contains(ip("fd00:10::abcd:1")));
  EXPECT_FALSE(v6.contains(ip("fd00:11::1")));
  EXPECT_FALSE(v6.contains(ip("10.10.0.5")));
}

TEST(CaptureCounters, CountsUpBySourceAndDownByDestination) {
  CaptureCounters c(100);
  c.set_lan(lan());
  c.count(packet("10.10.0.11", "198.51.100.2", 1514), 1'000);
  c.count(packet("198.51.100.2", "10.10.0.11", 66), 2'000);
  c.count(packet("fd00:51::2", "fd00:10::12", 1000), 3'000);
  auto all = c.snapshot(5'000);
  ASSERT_EQ(all.size(), 2u);
  const auto* d11 = find(all, "10.10.0.11");
  ASSERT_TRUE(d11);
  EXPECT_EQ(d11->up_bytes, 1514u);
  EXPECT_EQ(d11->up_packets, 1u);
  EXPECT_EQ(d11->down_bytes, 66u);
  EXPECT_EQ(d11->down_packets, 1u);
  EXPECT_EQ(d11->last_seen_age_ns, 3'000u);
  const auto* d12 = find(all, "fd00:10::12");
  ASSERT_TRUE(d12);
  EXPECT_EQ(d12->down_bytes, 1000u);
  EXPECT_EQ(d12->up_bytes, 0u);
}

TEST(CaptureCounters, RouterAddressesOutsidersAndNonDevicesAreNotDevices) {
  CaptureCounters c(100);
  c.set_lan(lan());
  c.count(packet("10.10.0.1", "198.51.100.2", 100), 1);  // the router itself
  c.count(packet("198.51.100.2", "10.10.0.1", 100), 1);
  c.count(packet("10.10.0.11", "10.10.0.255", 100, 17), 1);  // broadcast: only the sender counts
  c.count(packet("10.10.0.11", "224.0.0.251", 100, 17), 1);  // multicast
  c.count(packet("fe80::5", "ff02::1", 100, 17), 1);         // link-local, multicast
  c.count(packet("192.0.2.1", "198.51.100.2", 100), 1);      // neither end on the LAN
  auto all = c.snapshot(2);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(find(all, "10.10.0.11")->up_packets, 2u);
  EXPECT_EQ(find(all, "10.10.0.1"), nullptr);
}

TEST(CaptureCounters, PriorityPortsEitherWay) {
  CaptureCounters c(100);
  c.set_lan(lan());
  c.set_priority_ports(default_priority_ports());
  c.count(packet("10.10.0.11", "198.51.100.2", 100, 6, 40000, 443), 1);
  c.count(packet("198.51.100.2", "10.10.0.11", 200, 6, 443, 40000), 1);
  c.count(packet("198.51.100.2", "10.10.0.11", 300, 17, 5000, 5001), 1);
  c.count(packet("198.51.100.2", "10.10.0.11", 400, 17, 53, 5001), 1);
  const auto all = c.snapshot(1);
  const auto* d = find(all, "10.10.0.11");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->up_priority_bytes, 100u);
  EXPECT_EQ(d->down_priority_bytes, 600u);
  EXPECT_EQ(d->down_bytes, 900u);
}

TEST(CaptureCounters, UnlimitedPortsAreCountedApartFromPriorityPorts) {
  CaptureCounters c(100);
  c.set_lan(lan());
  c.set_priority_ports({{6, 443}, {17, 53}});
  c.set_unlimited_ports({{6, 8443}, {17, 53}});
  c.count(packet("10.10.0.11", "198.51.100.2", 100, 6, 40000, 8443), 1);  // unlimited only
  c.count(packet("198.51.100.2", "10.10.0.11", 200, 6, 8443, 40000), 1);
  c.count(packet("198.51.100.2", "10.10.0.11", 300, 6, 443, 40000), 1);   // priority only
  c.count(packet("198.51.100.2", "10.10.0.11", 400, 17, 53, 5001), 1);    // on both lists: both
  c.count(packet("198.51.100.2", "10.10.0.11", 500, 17, 8443, 5001), 1);  // 8443 is TCP only
  const auto all = c.snapshot(1);
  const auto* d = find(all, "10.10.0.11");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->up_bytes, 100u);
  EXPECT_EQ(d->up_unlimited_bytes, 100u);
  EXPECT_EQ(d->up_priority_bytes, 0u);
  EXPECT_EQ(d->down_bytes, 1400u) << "every byte counts in the totals";
  EXPECT_EQ(d->down_unlimited_bytes, 600u);
  EXPECT_EQ(d->down_priority_bytes, 700u);
}

TEST(CaptureCounters, BlockedUploadsAreDropsNotTraffic) {
  CaptureCounters c(100);
  c.set_lan(lan());
  c.set_blocked({ip("10.10.0.11")});
  c.count(packet("10.10.0.11", "198.51.100.2", 100), 1);
  c.count(packet("10.10.0.11", "198.51.100.2", 100), 1);
  const auto all = c.snapshot(1);
  const auto* d = find(all, "10.10.0.11");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->up_bytes, 0u);
  EXPECT_EQ(d->blocked_drops, 2u);
}

TEST(CaptureCounters, BoundedByMaxDevices) {
  CaptureCounters c(2);
  c.set_lan(lan());
  c.count(packet("10.10.0.11", "198.51.100.2", 100), 1);
  c.count(packet("10.10.0.12", "198.51.100.2", 100), 1);
  c.count(packet("10.10.0.13", "198.51.100.2", 100), 1);
  c.count(packet("10.10.0.11", "198.51.100.2", 100), 1);
  EXPECT_EQ(c.devices(), 2u);
  EXPECT_EQ(c.insert_failures(), 1u);
  EXPECT_EQ(c.new_devices(), 2u);
  EXPECT_EQ(find(c.snapshot(1), "10.10.0.11")->up_packets, 2u);
}

}  // namespace
}  // namespace bwalloc
