// map_codec: bits/s -> bytes/s, policy flags, address keys and the per-CPU
// counter sum, checked against the contract header's layout.
#include "agent/datapath/map_codec.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace bwalloc {
namespace {

IpAddress parse(const char* text) { return IpAddress::parse(text).value(); }

TEST(MapCodec, RatesGoFromBitsToBytesPerSecond) {
  EXPECT_EQ(rate_bytes_per_sec(0), 0u);  // unlimited stays unlimited
  EXPECT_EQ(rate_bytes_per_sec(100'000'000), 12'500'000u);
  EXPECT_EQ(rate_bytes_per_sec(20'000'000), 2'500'000u);
  EXPECT_EQ(rate_bytes_per_sec(5'000'000), 625'000u);
  EXPECT_EQ(rate_bytes_per_sec(12), 1u);
  // Below one byte per second is still a limit, never "0 = unlimited".
  EXPECT_EQ(rate_bytes_per_sec(1), 1u);
  EXPECT_EQ(rate_bytes_per_sec(7), 1u);
}

TEST(MapCodec, EncodesAPolicyForTheKernel) {
  DevicePolicy policy{parse("10.0.0.7"), Priority::Low, 5'000'000, 4'000'000, false};
  bwa_policy value = encode_policy(policy, 42);
  EXPECT_EQ(value.rate_bytes_per_sec[BWA_DIR_UP], 625'000u);
  EXPECT_EQ(value.rate_bytes_per_sec[BWA_DIR_DOWN], 500'000u);
  EXPECT_EQ(value.slot, 42u);
  EXPECT_EQ(value.priority, BWA_PRIO_LOW);
  EXPECT_EQ(value.flags, 0u);
  EXPECT_EQ(value.reserved, 0u);
}

TEST(MapCodec, BlockedAndExemptAllBecomeFlags) {
  DevicePolicy blocked{parse("10.0.0.8"), Priority::Blocked, 0, 0, false};
  EXPECT_EQ(encode_policy(blocked, 1).flags, BWA_POLICY_BLOCKED);
  EXPECT_EQ(encode_policy(blocked, 1).priority, BWA_PRIO_BLOCKED);
  DevicePolicy exempt{parse("10.0.0.9"), Priority::High, 0, 0, true};
  EXPECT_EQ(encode_policy(exempt, 1).flags, BWA_POLICY_EXEMPT_ALL);
  DevicePolicy both{parse("10.0.0.9"), Priority::Blocked, 0, 0, true};
  EXPECT_EQ(encode_policy(both, 1).flags, BWA_POLICY_BLOCKED | BWA_POLICY_EXEMPT_ALL);
}

TEST(MapCodec, DecodingAnEncodedPolicyGivesItBack) {
  for (Priority p : {Priority::Blocked, Priority::High, Priority::Normal, Priority::Low}) {
    DevicePolicy policy{parse("fd00:10::12"), p, 100'000'000, 20'000'000, p == Priority::High};
    EXPECT_EQ(decode_policy(policy.address, encode_policy(policy, 3)), policy) << priority_name(p);
  }
}

TEST(MapCodec, DecodingDistrustsOddKernelValues) {
  bwa_policy value{};
  value.priority = 200;
  EXPECT_EQ(decode_policy(parse("10.0.0.1"), value).priority, Priority::Normal);
  value.priority = BWA_PRIO_HIGH;
  value.flags = BWA_POLICY_BLOCKED;  // the flag is what the programs obey
  EXPECT_EQ(decode_policy(parse("10.0.0.1"), value).priority, Priority::Blocked);
}

TEST(MapCodec, AddressesAreIpv4MappedKeys) {
  bwa_addr key = to_bwa_addr(parse("192.0.2.1"));
  const uint8_t expected[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  EXPECT_EQ(std::memcmp(key.bytes, expected, 16), 0);
  EXPECT_EQ(from_bwa_addr(key), parse("192.0.2.1"));
  EXPECT_EQ(from_bwa_addr(to_bwa_addr(parse("2001:db8::1"))), parse("2001:db8::1"));
}

TEST(MapCodec, SumsEveryCpuAndTakesTheNewestLastSeen) {
  std::vector<bwa_counters> per_cpu(3);
  per_cpu[0].bytes[BWA_DIR_UP] = 100;
  per_cpu[0].packets[BWA_DIR_UP] = 1;
  per_cpu[0].last_seen_ns = 1'000;
  per_cpu[1].bytes[BWA_DIR_UP] = 50;
  per_cpu[1].bytes[BWA_DIR_DOWN] = 1'500;
  per_cpu[1].packets[BWA_DIR_UP] = 1;
  per_cpu[1].packets[BWA_DIR_DOWN] = 1;
  per_cpu[1].priority_bytes[BWA_DIR_DOWN] = 1'500;
  per_cpu[1].unlimited_bytes[BWA_DIR_DOWN] = 700;
  per_cpu[1].sparse_packets[BWA_DIR_DOWN] = 1;
  per_cpu[1].last_seen_ns = 5'000;
  per_cpu[2].blocked_drops[BWA_DIR_UP] = 2;
  per_cpu[2].blocked_drops[BWA_DIR_DOWN] = 3;
  per_cpu[2].horizon_drops[BWA_DIR_DOWN] = 4;
  per_cpu[2].ce_marks[BWA_DIR_UP] = 6;
  per_cpu[2].priority_bytes[BWA_DIR_UP] = 10;
  per_cpu[2].sparse_packets[BWA_DIR_UP] = 2;
  per_cpu[2].fair_drops[BWA_DIR_UP] = 7;
  per_cpu[0].unlimited_bytes[BWA_DIR_UP] = 30;
  per_cpu[2].last_seen_ns = 3'000;

  DeviceCounters d = sum_per_cpu_counters(parse("10.0.0.2"), per_cpu, 9'000);
  EXPECT_EQ(d.address, parse("10.0.0.2"));
  EXPECT_EQ(d.up_bytes, 150u);
  EXPECT_EQ(d.down_bytes, 1'500u);
  EXPECT_EQ(d.up_packets, 2u);
  EXPECT_EQ(d.down_packets, 1u);
  EXPECT_EQ(d.up_priority_bytes, 10u);
  EXPECT_EQ(d.down_priority_bytes, 1'500u);
  EXPECT_EQ(d.up_unlimited_bytes, 30u);
  EXPECT_EQ(d.down_unlimited_bytes, 700u);
  EXPECT_EQ(d.sparse_packets, 3u);
  EXPECT_EQ(d.fair_drops, 7u);
  EXPECT_EQ(d.blocked_drops, 5u);
  EXPECT_EQ(d.horizon_drops, 4u);
  EXPECT_EQ(d.ce_marks, 6u);
  EXPECT_EQ(d.last_seen_age_ns, 4'000u);  // now 9000 - newest 5000
}

TEST(MapCodec, AgeIsZeroWhenNeverSeenOrClockBehind) {
  std::vector<bwa_counters> per_cpu(2);
  EXPECT_EQ(sum_per_cpu_counters(parse("10.0.0.2"), per_cpu, 9'000).last_seen_age_ns, 0u);
  per_cpu[1].last_seen_ns = 10'000;
  EXPECT_EQ(sum_per_cpu_counters(parse("10.0.0.2"), per_cpu, 9'000).last_seen_age_ns, 0u);
}

TEST(MapCodec, PortClassesAreTwoBitsPerProtocolAndPort) {
  auto bits = port_class_bitmap({{6, 0}, {6, 31}, {6, 32}, {17, 53}, {1, 7}, {6, 31}}, {{17, 65535}, {6, 31}});
  ASSERT_EQ(bits.size(), static_cast<size_t>(BWA_PORT_WORDS));
  // TCP 0 and 31 share word 0 (bits 0 and 62); a repeat is harmless; TCP 31
  // is both priority and unlimited.
  EXPECT_EQ(bits[0], (uint64_t{BWA_PORT_PRIORITY} << 0) | (uint64_t{BWA_PORT_PRIORITY | BWA_PORT_UNLIMITED} << 62));
  EXPECT_EQ(bits[1], uint64_t{BWA_PORT_PRIORITY});               // TCP 32 starts word 1
  EXPECT_EQ(bits[2048 + 1], uint64_t{BWA_PORT_PRIORITY} << 42);  // UDP words follow the 2,048 TCP words; 53 = 32 + 21
  EXPECT_EQ(bits[BWA_PORT_WORDS - 1], uint64_t{BWA_PORT_UNLIMITED} << 62);  // UDP 65535: the very last pair
  int set = 0;
  for (uint64_t w : bits) set += __builtin_popcountll(w);
  EXPECT_EQ(set, 6) << "ICMP (protocol 1) has no ports and is skipped";
  EXPECT_EQ(bwa_port_word(0, 65535), 2047u);
  EXPECT_EQ(bwa_port_word(1, 0), 2048u);
  EXPECT_EQ(bwa_port_shift(33), 2u);
}

}  // namespace
}  // namespace bwalloc
