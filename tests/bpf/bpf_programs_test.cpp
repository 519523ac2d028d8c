// The datapath programs run through BPF_PROG_TEST_RUN, Katran style: each
// case is a described packet, the policy around it, the verdict it must get
// and the counters it must leave. Then the EDT pacer: departure spacing,
// horizon drops, CE marking, the fast lane inside a device, port classes,
// the upload mark and the WAN side.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include "agent/common/ip_address.h"
#include "bwalloc.skel.h"
#include "bwalloc_maps.h"
#include "tests/bpf/packet_builder.h"

namespace bwalloc {
namespace {

using test::build_arp;
using test::build_packet;
using test::PacketSpec;

constexpr uint16_t kQinQ = 0x88a8;
constexpr uint16_t kDot1Q = 0x8100;

bwa_addr addr_of(const std::string& text) {
  bwa_addr a{};
  auto ip = IpAddress::parse(text);
  std::memcpy(a.bytes, ip.value().bytes().data(), 16);
  return a;
}

struct TcRun {
  int verdict = -1;
  __sk_buff ctx{};
  std::vector<uint8_t> data;
};

class BpfProgramsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "BPF program tests need root (bpf() and BPF_PROG_TEST_RUN)";
    libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
    skel_ = bwalloc_bpf__open_and_load();
    if (!skel_) GTEST_SKIP() << "cannot load the BPF programs on this kernel: " << std::strerror(errno);
    settings(20'000'000, 2'000'000, BWA_SETTING_ECN | BWA_SETTING_TC_INGRESS_COUNTS);
  }
  void TearDown() override {
    if (skel_) bwalloc_bpf__destroy(skel_);
  }

  int fd(bpf_map* map) { return bpf_map__fd(map); }

  void settings(uint64_t horizon_ns, uint64_t ce_target_ns, uint32_t flags) {
    bwa_settings s{horizon_ns, ce_target_ns, flags, BWA_LAYOUT_VERSION, 0, 0};
    uint32_t zero = 0;
    ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_settings), &zero, &s, BPF_ANY), 0);
  }

  void policy(const std::string& ip, uint64_t up_bytes_per_sec, uint64_t down_bytes_per_sec, uint32_t slot,
              uint8_t flags = 0) {
    bwa_policy p{};
    p.rate_bytes_per_sec[BWA_DIR_UP] = up_bytes_per_sec;
    p.rate_bytes_per_sec[BWA_DIR_DOWN] = down_bytes_per_sec;
    p.slot = slot;
    p.flags = flags;
    bwa_addr key = addr_of(ip);
    ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_policy), &key, &p, BPF_ANY), 0);
    if (slot) {
      ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_slot_addr), &slot, &key, BPF_ANY), 0);
    }
  }

  // What the agent does after writing policies: the programs' per-CPU
  // policy copies expire at their next packet.
  void bump_policy_generation() {
    bwa_settings s{};
    uint32_t zero = 0;
    ASSERT_EQ(bpf_map_lookup_elem(fd(skel_->maps.bwa_settings), &zero, &s), 0);
    ++s.policy_generation;
    ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_settings), &zero, &s, BPF_ANY), 0);
  }

  void remove_policy(const std::string& ip) {
    bwa_addr key = addr_of(ip);
    ASSERT_EQ(bpf_map_delete_elem(fd(skel_->maps.bwa_policy), &key), 0);
  }

  void port_class(uint8_t protocol, uint16_t port, uint64_t port_class) {
    uint32_t word = bwa_port_word(protocol == 17, port);
    uint64_t bits = 0;
    ASSERT_EQ(bpf_map_lookup_elem(fd(skel_->maps.bwa_ports), &word, &bits), 0);
    bits |= port_class << bwa_port_shift(port);
    ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_ports), &word, &bits, BPF_ANY), 0);
  }
  void priority(uint8_t protocol, uint16_t port) { port_class(protocol, port, BWA_PORT_PRIORITY); }
  void unlimited(uint8_t protocol, uint16_t port) { port_class(protocol, port, BWA_PORT_UNLIMITED); }

  bwa_counters counters(const std::string& ip) {
    int cpus = libbpf_num_possible_cpus();
    std::vector<bwa_counters> per_cpu(cpus);
    bwa_counters sum{};
    bwa_addr key = addr_of(ip);
    if (bpf_map_lookup_elem(fd(skel_->maps.bwa_counters), &key, per_cpu.data()) != 0) return sum;
    for (const auto& c : per_cpu) {
      for (int d = 0; d < 2; ++d) {
        sum.bytes[d] += c.bytes[d];
        sum.packets[d] += c.packets[d];
        sum.priority_bytes[d] += c.priority_bytes[d];
        sum.unlimited_bytes[d] += c.unlimited_bytes[d];
        sum.sparse_packets[d] += c.sparse_packets[d];
        sum.blocked_drops[d] += c.blocked_drops[d];
        sum.horizon_drops[d] += c.horizon_drops[d];
        sum.fair_drops[d] += c.fair_drops[d];
        sum.ce_marks[d] += c.ce_marks[d];
      }
      sum.last_seen_ns = std::max<uint64_t>(sum.last_seen_ns, c.last_seen_ns);
    }
    return sum;
  }

  bwa_global global() {
    int cpus = libbpf_num_possible_cpus();
    std::vector<bwa_global> per_cpu(cpus);
    bwa_global sum{};
    uint32_t zero = 0;
    bpf_map_lookup_elem(fd(skel_->maps.bwa_global), &zero, per_cpu.data());
    for (const auto& g : per_cpu) {
      sum.unparsed_packets += g.unparsed_packets;
      sum.new_devices += g.new_devices;
    }
    return sum;
  }

  uint64_t t_last(uint32_t slot, int dir) {
    uint32_t index = slot * 2 + dir;
    bwa_edt_state s{};
    bpf_map_lookup_elem(fd(skel_->maps.bwa_edt), &index, &s);
    return s.t_last_ns;
  }

  int run_xdp(const std::vector<uint8_t>& packet) {
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(),
                .data_size_in = static_cast<uint32_t>(packet.size()));
    int rc = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.bwa_xdp_ingress), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    return static_cast<int>(opts.retval);
  }

  TcRun run_tc(bpf_program* prog, const std::vector<uint8_t>& packet, __sk_buff ctx_in = {}) {
    TcRun run;
    run.data.resize(packet.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = run.data.data(),
                .data_size_in = static_cast<uint32_t>(packet.size()),
                .data_size_out = static_cast<uint32_t>(run.data.size()), .ctx_in = &ctx_in, .ctx_out = &run.ctx,
                .ctx_size_in = sizeof ctx_in, .ctx_size_out = sizeof run.ctx);
    int rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    run.verdict = static_cast<int>(opts.retval);
    run.data.resize(opts.data_size_out);
    return run;
  }

  bwalloc_bpf* skel_ = nullptr;
};

// ---- The table: parsing, counting, blocking, port classes on every program ----

enum class Program { Xdp, TcIngress, TcEgress };

using Mangle = std::function<std::vector<uint8_t>(std::vector<uint8_t>)>;

std::vector<uint8_t> keep(std::vector<uint8_t> p) { return p; }

// What a case must leave behind. A row names only what differs from
// "nothing counted, no priority bytes, not blocked, parsed".
struct Expected {
  int verdict;
  const char* counted_as = "";  // the device whose counters must move ("" = none)
  bool priority = false;        // its bytes counted as priority bytes
  bool blocked = false;         // counted as a blocked drop, not as delivered bytes
  bool unparsed = false;        // the global "unparsed" counter moves
};

struct CountCase {
  const char* description;
  Program program = Program::Xdp;
  PacketSpec spec;
  Mangle mangle = keep;      // truncation / corruption of the built frame
  uint8_t policy_flags = 0;  // for the device the packet belongs to
  Expected expect;
};

PacketSpec v4_tcp(uint16_t dport = 5201) {
  return PacketSpec{.src = "10.10.0.5", .dst = "198.51.100.2", .protocol = 6, .src_port = 40000, .dst_port = dport};
}
PacketSpec down_v4(uint16_t sport = 5201) {
  return PacketSpec{.src = "198.51.100.2", .dst = "10.10.0.5", .protocol = 6, .src_port = sport, .dst_port = 40000};
}
PacketSpec v6_udp(uint16_t dport) {
  return PacketSpec{
      .ipv6 = true, .src = "fd00:10::5", .dst = "fd00:51::2", .protocol = 17, .src_port = 40000, .dst_port = dport};
}
// A full-size frame (1,454 B): a flow sending these is a quantum (1,514 B)
// ahead of its fair share from its second packet on, so it is bulk there.
PacketSpec full_size(PacketSpec spec) {
  spec.payload = 1400;
  return spec;
}

Mangle cut_to(size_t n) {
  return [n](std::vector<uint8_t> p) {
    p.resize(n);
    return p;
  };
}

std::vector<CountCase> count_cases() {
  PacketSpec vlan1 = v4_tcp();
  vlan1.vlan_tpids = {kDot1Q};
  PacketSpec vlan2 = v4_tcp();
  vlan2.vlan_tpids = {kQinQ, kDot1Q};
  PacketSpec vlan3 = v4_tcp();
  vlan3.vlan_tpids = {kQinQ, kDot1Q, kDot1Q};
  PacketSpec options = v4_tcp(53);
  options.ipv4_option_bytes = 12;
  PacketSpec icmp = v4_tcp();
  icmp.protocol = 1;
  PacketSpec v6_hbh = v6_udp(123);
  v6_hbh.ipv6_hop_by_hop_headers = 2;
  PacketSpec v6_too_many = v6_udp(123);
  v6_too_many.ipv6_hop_by_hop_headers = 7;
  PacketSpec icmp6 = v6_udp(0);
  icmp6.protocol = 58;
  auto bad_ihl = [](std::vector<uint8_t> p) {
    p[14] = 0x44;
    return p;
  };
  auto bad_version = [](std::vector<uint8_t> p) {
    p[14] = 0x65;
    return p;
  };
  const uint8_t blocked = BWA_POLICY_BLOCKED;
  return {
      {.description = "IPv4 TCP upload counted by source",
       .spec = v4_tcp(),
       .expect = {.verdict = XDP_PASS, .counted_as = "10.10.0.5"}},
      {.description = "IPv4 TCP upload counted by tc when XDP is absent",
       .program = Program::TcIngress,
       .spec = v4_tcp(),
       .expect = {.verdict = TC_ACT_OK, .counted_as = "10.10.0.5"}},
      {.description = "IPv4 download counted by destination",
       .program = Program::TcEgress,
       .spec = down_v4(),
       .expect = {.verdict = TC_ACT_OK, .counted_as = "10.10.0.5"}},
      {.description = "one VLAN tag", .spec = vlan1, .expect = {.verdict = XDP_PASS, .counted_as = "10.10.0.5"}},
      {.description = "two VLAN tags (QinQ)",
       .spec = vlan2,
       .expect = {.verdict = XDP_PASS, .counted_as = "10.10.0.5"}},
      {.description = "three VLAN tags: more than parsed, fails open",
       .spec = vlan3,
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "IPv4 options skipped to reach the DNS port",
       .spec = options,
       .expect = {.verdict = XDP_PASS, .counted_as = "10.10.0.5", .priority = true}},
      {.description = "ICMP counted, has no port class",
       .spec = icmp,
       .expect = {.verdict = XDP_PASS, .counted_as = "10.10.0.5"}},
      {.description = "IPv6 UDP NTP a priority port",
       .spec = v6_udp(123),
       .expect = {.verdict = XDP_PASS, .counted_as = "fd00:10::5", .priority = true}},
      {.description = "IPv6 hop-by-hop headers walked to UDP",
       .spec = v6_hbh,
       .expect = {.verdict = XDP_PASS, .counted_as = "fd00:10::5", .priority = true}},
      {.description = "IPv6 with more extension headers than walked fails open",
       .spec = v6_too_many,
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "ICMPv6 counted", .spec = icmp6, .expect = {.verdict = XDP_PASS, .counted_as = "fd00:10::5"}},
      {.description = "ARP passes uncounted and is not 'unparsed'",
       .spec = v4_tcp(),
       .mangle = [](std::vector<uint8_t>) { return build_arp(); },
       .expect = {.verdict = XDP_PASS}},
      {.description = "truncated VLAN tag fails open",
       .spec = vlan1,
       .mangle = cut_to(16),
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "truncated IPv4 header fails open",
       .spec = v4_tcp(),
       .mangle = cut_to(14 + 12),
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "truncated TCP ports fail open",
       .spec = v4_tcp(),
       .mangle = cut_to(14 + 20 + 2),
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "IPv4 ihl below 5 fails open",
       .spec = v4_tcp(),
       .mangle = bad_ihl,
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "IP version mismatch fails open",
       .spec = v4_tcp(),
       .mangle = bad_version,
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "truncated IPv6 header fails open",
       .spec = v6_udp(53),
       .mangle = cut_to(14 + 30),
       .expect = {.verdict = XDP_PASS, .unparsed = true}},
      {.description = "truncated UDP header fails open on egress",
       .program = Program::TcEgress,
       .spec = v6_udp(53),
       .mangle = cut_to(14 + 40 + 3),
       .expect = {.verdict = TC_ACT_OK, .unparsed = true}},
      {.description = "Blocked device dropped at XDP",
       .spec = v4_tcp(),
       .policy_flags = blocked,
       .expect = {.verdict = XDP_DROP, .counted_as = "10.10.0.5", .blocked = true}},
      {.description = "Blocked device dropped even on a priority port",
       .spec = v4_tcp(443),
       .policy_flags = blocked,
       .expect = {.verdict = XDP_DROP, .counted_as = "10.10.0.5", .blocked = true}},
      {.description = "Blocked device dropped by tc ingress without XDP",
       .program = Program::TcIngress,
       .spec = v4_tcp(),
       .policy_flags = blocked,
       .expect = {.verdict = TC_ACT_SHOT, .counted_as = "10.10.0.5", .blocked = true}},
      {.description = "Blocked device's download dropped",
       .program = Program::TcEgress,
       .spec = down_v4(),
       .policy_flags = blocked,
       .expect = {.verdict = TC_ACT_SHOT, .counted_as = "10.10.0.5", .blocked = true}},
      {.description = "Blocked IPv6 device dropped",
       .spec = v6_udp(9999),
       .policy_flags = blocked,
       .expect = {.verdict = XDP_DROP, .counted_as = "fd00:10::5", .blocked = true}},
  };
}

TEST_F(BpfProgramsTest, ParsingCountingBlockingTable) {
  for (const CountCase& c : count_cases()) {
    SCOPED_TRACE(c.description);
    // Each case starts from empty counters and a policy for its device.
    TearDown();
    SetUp();
    priority(6, 53);
    priority(17, 53);
    priority(6, 443);
    priority(17, 123);
    std::string device = c.spec.ipv6 ? "fd00:10::5" : "10.10.0.5";
    policy(device, 0, 0, 1, c.policy_flags);
    std::vector<uint8_t> packet = c.mangle(build_packet(c.spec));
    int verdict = -1;
    switch (c.program) {
      case Program::Xdp:
        verdict = run_xdp(packet);
        break;
      case Program::TcIngress:
        verdict = run_tc(skel_->progs.bwa_tc_ingress, packet).verdict;
        break;
      case Program::TcEgress:
        verdict = run_tc(skel_->progs.bwa_tc_egress, packet).verdict;
        break;
    }
    EXPECT_EQ(verdict, c.expect.verdict);
    int dir = c.program == Program::TcEgress ? BWA_DIR_DOWN : BWA_DIR_UP;
    bwa_counters counted = counters(device);
    if (std::string(c.expect.counted_as).empty()) {
      EXPECT_EQ(counted.packets[0] + counted.packets[1] + counted.blocked_drops[0] + counted.blocked_drops[1], 0u);
    } else if (c.expect.blocked) {
      EXPECT_EQ(device, c.expect.counted_as);
      EXPECT_EQ(counted.blocked_drops[dir], 1u);
      EXPECT_EQ(counted.bytes[dir], 0u) << "dropped packets are not delivered bytes";
    } else {
      EXPECT_EQ(device, c.expect.counted_as);
      EXPECT_EQ(counted.packets[dir], 1u);
      EXPECT_EQ(counted.bytes[dir], packet.size()) << "bytes = frame length";
      EXPECT_EQ(counted.priority_bytes[dir], c.expect.priority ? packet.size() : 0u);
      EXPECT_GT(counted.last_seen_ns, 0u);
    }
    EXPECT_EQ(global().unparsed_packets, c.expect.unparsed ? 1u : 0u);
  }
}

TEST_F(BpfProgramsTest, UnknownDevicesAppearByThemselves) {
  run_xdp(build_packet(PacketSpec{.src = "10.10.0.77", .dst = "198.51.100.2"}));
  run_xdp(build_packet(PacketSpec{.src = "10.10.0.77", .dst = "198.51.100.2"}));
  EXPECT_EQ(counters("10.10.0.77").packets[BWA_DIR_UP], 2u);
  EXPECT_EQ(global().new_devices, 1u);
}

TEST_F(BpfProgramsTest, TcIngressCountsOnlyWhenXdpIsAbsent) {
  settings(20'000'000, 2'000'000, BWA_SETTING_ECN);  // XDP attached: tc must not count twice
  run_tc(skel_->progs.bwa_tc_ingress, build_packet(v4_tcp()));
  EXPECT_EQ(counters("10.10.0.5").packets[BWA_DIR_UP], 0u);
}

// ---- EDT pacing ----
// The programs pace by bpf_ktime_get_ns(), and real time passes between two
// test runs: a preemption on a loaded machine can take tens of ms. So the
// rates here give each packet seconds of departure time (and the horizons
// and CE targets are scaled to match): a queue only drains, or stays below
// a threshold, if seconds pass between two runs, never for a busy machine.

TEST_F(BpfProgramsTest, DepartureSpacingIsWireLengthOverRate) {
  // 0.1 s per byte: ~145 s between departures, so the queue never drains
  // between two test runs however slow the machine (qemu's TCG, a loaded
  // host: 1 us and then 100 us per byte let the device go idle). A 1,000 s
  // horizon keeps the five queued packets from dropping.
  constexpr uint64_t kRate = 10;  // bytes/s
  settings(1'000'000'000'000, 1'000'000'000'000, 0);
  policy("10.10.0.5", 0, kRate, 3);
  auto packet = build_packet(full_size(down_v4()));
  const uint64_t spacing = packet.size() * 1'000'000'000ull / kRate;
  TcRun first = run_tc(skel_->progs.bwa_tc_egress, packet);
  EXPECT_EQ(first.verdict, TC_ACT_OK);
  EXPECT_EQ(first.ctx.tstamp, 0u) << "an idle device's first packet leaves at once";
  uint64_t previous = 0;
  for (int i = 0; i < 5; ++i) {
    TcRun next = run_tc(skel_->progs.bwa_tc_egress, packet);
    ASSERT_EQ(next.verdict, TC_ACT_OK);
    ASSERT_GT(next.ctx.tstamp, 0u);
    if (previous) {
      EXPECT_EQ(next.ctx.tstamp - previous, spacing) << "packet " << i;
    }
    previous = next.ctx.tstamp;
  }
  EXPECT_EQ(t_last(3, BWA_DIR_DOWN), previous);
}

TEST_F(BpfProgramsTest, GsoPacketsArePacedAndCountedAtTheirWireLength) {
  constexpr uint64_t kRate = 100;  // seconds per packet: the queue never drains between runs
  settings(1'000'000'000'000, 1'000'000'000'000, BWA_SETTING_ECN | BWA_SETTING_TC_INGRESS_COUNTS);
  policy("10.10.0.5", 0, kRate, 3);
  auto packet = build_packet(full_size(down_v4()));  // the first segment's headers + payload
  __sk_buff ctx{};
  ctx.gso_segs = 4;
  ctx.gso_size = 100;
  const uint64_t headers = 14 + 20 + 20;
  const uint64_t wire = packet.size() + 3 * headers;
  run_tc(skel_->progs.bwa_tc_egress, packet, ctx);
  TcRun second = run_tc(skel_->progs.bwa_tc_egress, packet, ctx);
  TcRun third = run_tc(skel_->progs.bwa_tc_egress, packet, ctx);
  EXPECT_EQ(third.ctx.tstamp - second.ctx.tstamp, wire * 1'000'000'000ull / kRate);
  EXPECT_EQ(counters("10.10.0.5").bytes[BWA_DIR_DOWN], 3 * wire);
}

TEST_F(BpfProgramsTest, HorizonDropIsCounted) {
  constexpr uint64_t kRate = 100;                   // 10 ms per byte: a 1,454 B frame waits 14.5 s
  settings(600'000'000'000, 1'000'000'000'000, 0);  // 600 s horizon (above the 32-frame floor of 484 s), CE off
  policy("10.10.0.5", 0, kRate, 4);
  auto packet = build_packet(full_size(down_v4()));
  int sent = 0, dropped = 0;
  for (int i = 0; i < 60; ++i) {
    int verdict = run_tc(skel_->progs.bwa_tc_egress, packet).verdict;
    (verdict == TC_ACT_SHOT ? dropped : sent)++;
  }
  EXPECT_GT(dropped, 0);
  // The first leaves at once; then 600 s of horizon plus one packet's own
  // time: about 42 packets queue.
  EXPECT_GE(sent, 40);
  EXPECT_LE(sent, 50);
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.horizon_drops[BWA_DIR_DOWN], static_cast<uint64_t>(dropped));
  EXPECT_EQ(c.packets[BWA_DIR_DOWN], static_cast<uint64_t>(sent));
}

// At 5 Mbit/s 20 ms is 8 full-size frames for every flow of a device: a
// loss then costs TCP a retransmission timeout. The horizon holds at least
// 32 frames of the device's time (interactive packets take the fast lane).
TEST_F(BpfProgramsTest, AtLowRatesTheHorizonHoldsAtLeast32Frames) {
  constexpr uint64_t kRate = 10;                  // 145 s per full-size frame
  settings(5'000'000'000, 1'000'000'000'000, 0);  // 5 s: not even one frame
  policy("10.10.0.5", 0, kRate, 4);
  auto packet = build_packet(full_size(down_v4()));
  int sent = 0, dropped = 0;
  for (int i = 0; i < 40; ++i) {
    (run_tc(skel_->progs.bwa_tc_egress, packet).verdict == TC_ACT_SHOT ? dropped : sent)++;
  }
  EXPECT_GE(sent, 1 + BWA_MIN_HORIZON_FRAMES) << "the first leaves at once, then the floor's 32 frames queue";
  EXPECT_LE(sent, 1 + BWA_MIN_HORIZON_FRAMES + 3);
  EXPECT_GT(dropped, 0) << "the floor is a bound too";
}

TEST_F(BpfProgramsTest, EcnCapablePacketsAreMarkedCeAboveTarget) {
  constexpr uint64_t kRate = 100;                             // 14.5 s per frame
  settings(500'000'000'000, 2'000'000'000, BWA_SETTING_ECN);  // CE above 2 s of queue (the 2-frame floor: 30 s)
  policy("10.10.0.5", 0, kRate, 5);
  PacketSpec spec = full_size(down_v4());
  spec.ecn = 2;  // ECT(0)
  auto packet = build_packet(spec);
  uint8_t last_ecn = 0;
  for (int i = 0; i < 5; ++i) {
    TcRun run = run_tc(skel_->progs.bwa_tc_egress, packet);
    ASSERT_EQ(run.verdict, TC_ACT_OK);
    last_ecn = run.data[15] & 3;
  }
  EXPECT_EQ(last_ecn, 3) << "the fifth packet waits ~58 s: above the 30 s target, so CE";
  EXPECT_GT(counters("10.10.0.5").ce_marks[BWA_DIR_DOWN], 0u);
  EXPECT_EQ(counters("10.10.0.5").horizon_drops[BWA_DIR_DOWN], 0u);
}

// Priority ports count against the limit like every byte: HTTPS on 443 is
// most of today's bulk traffic, so "exempt" would void every limit.
TEST_F(BpfProgramsTest, PriorityPortTrafficIsChargedToTheLimitLikeAnyOther) {
  constexpr uint64_t kRate = 10;  // 145 s per full-size frame
  settings(1'000'000'000'000, 1'000'000'000'000, 0);
  priority(6, 443);
  policy("10.10.0.5", 0, kRate, 6);
  policy("10.10.0.6", 0, kRate, 7);
  auto https = build_packet(full_size(down_v4(443)));
  auto other = build_packet(full_size(
      PacketSpec{.src = "198.51.100.2", .dst = "10.10.0.6", .protocol = 6, .src_port = 5201, .dst_port = 40000}));
  ASSERT_EQ(https.size(), other.size());
  const uint64_t wire_ns = https.size() * 1'000'000'000ull / kRate;
  int https_waited = 0, other_waited = 0;
  for (int i = 0; i < 6; ++i) {
    TcRun a = run_tc(skel_->progs.bwa_tc_egress, https);
    TcRun b = run_tc(skel_->progs.bwa_tc_egress, other);
    ASSERT_EQ(a.verdict, TC_ACT_OK);
    ASSERT_EQ(b.verdict, TC_ACT_OK);
    https_waited += a.ctx.tstamp != 0;
    other_waited += b.ctx.tstamp != 0;
  }
  // Both clocks advanced by the same five wire times (the first packet of
  // an idle device sets the clock to now); the runs themselves take
  // milliseconds at most against 145 s per frame.
  const int64_t difference =
      static_cast<int64_t>(t_last(6, BWA_DIR_DOWN)) - static_cast<int64_t>(t_last(7, BWA_DIR_DOWN));
  EXPECT_LT(std::llabs(difference), static_cast<int64_t>(wire_ns / 10)) << "443 is charged like port 5201";
  EXPECT_GT(https_waited, 0) << "a 443 download waits for its departure time like any bulk flow";
  EXPECT_GE(https_waited, other_waited - 4) << "priority only lets a flow stay sparse for 4 quanta, not forever";
  EXPECT_EQ(counters("10.10.0.5").priority_bytes[BWA_DIR_DOWN], 6 * https.size());
  EXPECT_EQ(counters("10.10.0.6").priority_bytes[BWA_DIR_DOWN], 0u);
}

// Only an operator's explicit unlimited ports (empty by default) pass
// unpaced, and they do not advance the device's clock.
TEST_F(BpfProgramsTest, UnlimitedPortsAreNeverDelayedAndNeverAdvanceTheClock) {
  unlimited(6, 8443);
  policy("10.10.0.5", 0, 10, 6);  // 10 B/s: anything paced would wait minutes
  auto packet = build_packet(full_size(down_v4(8443)));
  for (int i = 0; i < 10; ++i) {
    TcRun run = run_tc(skel_->progs.bwa_tc_egress, packet);
    EXPECT_EQ(run.verdict, TC_ACT_OK);
    EXPECT_EQ(run.ctx.tstamp, 0u);
  }
  EXPECT_EQ(t_last(6, BWA_DIR_DOWN), 0u);
  EXPECT_EQ(counters("10.10.0.5").unlimited_bytes[BWA_DIR_DOWN], 10 * packet.size());
  EXPECT_EQ(counters("10.10.0.5").priority_bytes[BWA_DIR_DOWN], 0u);
}

// The port classes are two bits per port and protocol: their edges (ports
// 0 and 65535, the ports either side of a word boundary) and the protocol
// split must be exact. A bulk packet at 10 B/s gets a departure time
// (minutes away); one on an unlimited port not.
TEST_F(BpfProgramsTest, PortClassBitmapEdgesAndProtocols) {
  unlimited(6, 0);
  unlimited(17, 65535);
  unlimited(6, 31);
  unlimited(17, 32);
  priority(6, 32);  // a neighbour's other class must not leak into port 31/33
  struct PortCase {
    uint8_t protocol;
    uint16_t src_port;
    uint16_t dst_port;
    bool unlimited = false;
    bool priority = false;
  };
  const PortCase cases[] = {
      {.protocol = 6, .src_port = 0, .dst_port = 40000, .unlimited = true},  // TCP port 0, first bits of the TCP words
      {.protocol = 6, .src_port = 40000, .dst_port = 0, .unlimited = true},  // ... as the destination too
      {.protocol = 17, .src_port = 0, .dst_port = 40000},                    // UDP port 0 is a different pair of bits
      {.protocol = 17,
       .src_port = 65535,
       .dst_port = 40000,
       .unlimited = true},  // UDP port 65535, last bits of the whole map
      {.protocol = 17, .src_port = 40000, .dst_port = 65535, .unlimited = true},
      {.protocol = 6, .src_port = 65535, .dst_port = 40000},                  // TCP 65535: last TCP bits, not set
      {.protocol = 6, .src_port = 31, .dst_port = 40000, .unlimited = true},  // last port of TCP word 0
      {.protocol = 6, .src_port = 32, .dst_port = 40000, .priority = true},   // first port of TCP word 1: priority only
      {.protocol = 6, .src_port = 33, .dst_port = 40000},
      {.protocol = 17, .src_port = 32, .dst_port = 40000, .unlimited = true},  // first port of UDP word 2049
      {.protocol = 17, .src_port = 31, .dst_port = 40000},
      {.protocol = 1, .src_port = 0, .dst_port = 0},  // ICMP has no ports, no class
  };
  uint32_t slot = 20;
  for (const PortCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.protocol) + " " + std::to_string(c.src_port) + " -> " + std::to_string(c.dst_port));
    std::string device = "10.10.1." + std::to_string(slot);
    policy(device, 0, 10, slot++);  // 10 B/s: anything paced waits minutes
    auto packet = build_packet(full_size(PacketSpec{
        .src = "198.51.100.2", .dst = device, .protocol = c.protocol, .src_port = c.src_port, .dst_port = c.dst_port}));
    run_tc(skel_->progs.bwa_tc_egress, packet);  // the first packet of an idle device leaves at once
    TcRun second = run_tc(skel_->progs.bwa_tc_egress, packet);
    EXPECT_EQ(second.verdict, TC_ACT_OK);
    if (!c.priority) {
      EXPECT_EQ(second.ctx.tstamp == 0, c.unlimited);  // a priority flow may still be sparse
    }
    EXPECT_EQ(counters(device).unlimited_bytes[BWA_DIR_DOWN], c.unlimited ? 2 * packet.size() : 0u);
    EXPECT_EQ(counters(device).priority_bytes[BWA_DIR_DOWN], c.priority ? 2 * packet.size() : 0u);
    EXPECT_EQ(counters(device).packets[BWA_DIR_DOWN], 2u);
  }
}

// ---- The fast lane inside a device ----

// A device's bulk download has its clock ahead of now; a ping (another,
// sparse flow) must not wait behind it, yet pays for its bytes.
TEST_F(BpfProgramsTest, SparsePacketDepartsAtOnceAndAdvancesTheClockByItsWireTime) {
  constexpr uint64_t kRate = 10;  // 145 s per full-size frame: the clock stays ahead
  settings(1'000'000'000'000, 1'000'000'000'000, 0);
  policy("10.10.0.5", 0, kRate, 3);
  auto bulk = build_packet(full_size(down_v4()));
  for (int i = 0; i < 3; ++i) ASSERT_EQ(run_tc(skel_->progs.bwa_tc_egress, bulk).verdict, TC_ACT_OK);
  const uint64_t clock = t_last(3, BWA_DIR_DOWN);
  ASSERT_GT(clock, 0u);

  PacketSpec echo{false, "198.51.100.2", "10.10.0.5", 1, 0, 0};
  echo.payload = 56;
  auto ping = build_packet(echo);
  TcRun fast = run_tc(skel_->progs.bwa_tc_egress, ping);
  EXPECT_EQ(fast.verdict, TC_ACT_OK);
  EXPECT_EQ(fast.ctx.tstamp, 0u) << "the ping leaves at once, not behind the download";
  EXPECT_EQ(t_last(3, BWA_DIR_DOWN), clock + ping.size() * 1'000'000'000ull / kRate)
      << "charged to the device's clock by its wire time";

  TcRun waits = run_tc(skel_->progs.bwa_tc_egress, bulk);
  EXPECT_EQ(waits.verdict, TC_ACT_OK);
  EXPECT_EQ(waits.ctx.tstamp, clock + (ping.size() + bulk.size()) * 1'000'000'000ull / kRate)
      << "the bulk flow's next packet waits, after the ping's time too";
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.sparse_packets[BWA_DIR_DOWN], 2u) << "the download's first packet and the ping";
  EXPECT_EQ(c.horizon_drops[BWA_DIR_DOWN], 0u);
}

// A flood of small packets, each a new flow, cannot pass the limit by more
// than one horizon: past two horizons of debt (bulk fills the first, plus
// the largest GSO packet bulk may add at once) the fast lane drops, and
// says so.
TEST_F(BpfProgramsTest, FastLaneFloodPastTheHorizonIsDroppedAndCounted) {
  constexpr uint64_t kRate = 100;  // a 154 B frame is 1.54 s of the device's time
  constexpr uint64_t kHorizon = 5'000'000'000;
  settings(kHorizon, 1'000'000'000, 0);
  policy("10.10.0.5", 0, kRate, 4);
  // The horizon's floor at this rate: 32 frames of 1,514 B.
  const uint64_t horizon =
      std::max<uint64_t>(kHorizon, BWA_MIN_HORIZON_FRAMES * (BWA_FLOW_QUANTUM * 1'000'000'000ull / kRate));
  const uint64_t bound = 2 * horizon + BWA_MAX_GSO_BYTES * 1'000'000'000ull / kRate;
  int sent = 0, dropped = 0;
  uint64_t frame = 0, worst_debt = 0;
  for (int i = 0; i < 3000; ++i) {
    auto packet = build_packet(PacketSpec{.src = "198.51.100.2",
                                          .dst = "10.10.0.5",
                                          .protocol = 17,
                                          .src_port = static_cast<uint16_t>(1000 + i),
                                          .dst_port = 53});
    frame = packet.size();
    (run_tc(skel_->progs.bwa_tc_egress, packet).verdict == TC_ACT_SHOT ? dropped : sent)++;
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);  // bpf_ktime_get_ns()'s clock, read after the run
    const uint64_t now_ns = static_cast<uint64_t>(now.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(now.tv_nsec);
    const uint64_t clock = t_last(4, BWA_DIR_DOWN);
    if (clock > now_ns) worst_debt = std::max(worst_debt, clock - now_ns);
  }
  const uint64_t per_frame = frame * 1'000'000'000ull / kRate;
  EXPECT_GT(dropped, 0) << "3,000 frames are 4,620 s of the device's time, above the " << bound / 1'000'000'000
                        << " s bound";
  EXPECT_LE(worst_debt, bound + per_frame) << "the fast lane's debt stays within its bound";
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.horizon_drops[BWA_DIR_DOWN], static_cast<uint64_t>(dropped));
  EXPECT_EQ(c.sparse_packets[BWA_DIR_DOWN], static_cast<uint64_t>(sent)) << "every sent one took the fast lane";
  EXPECT_EQ(c.packets[BWA_DIR_DOWN], static_cast<uint64_t>(sent));
}

// Two bulk flows of one device: the one far above its fair share (half the
// rate) is the one that loses a packet to slow down, not whichever packet
// meets the horizon; the other flow loses nothing.
TEST_F(BpfProgramsTest, TheFlowFarAboveItsFairShareIsTheOneDropped) {
  constexpr uint64_t kRate = 100;                                                 // 14.5 s per full-size frame
  bwa_settings s{1'000'000'000'000, 1'000'000'000, 0, BWA_LAYOUT_VERSION, 0, 4};  // fairness at 4 quanta ahead
  uint32_t zero = 0;
  ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_settings), &zero, &s, BPF_ANY), 0);
  policy("10.10.0.5", 0, kRate, 8);
  auto hog = build_packet(full_size(down_v4(5201)));
  auto polite = build_packet(full_size(down_v4(5202)));
  int hog_dropped = 0, polite_dropped = 0;
  for (int i = 0; i < 30; ++i) {
    hog_dropped += run_tc(skel_->progs.bwa_tc_egress, hog).verdict == TC_ACT_SHOT;
    if (i % 10 == 0) polite_dropped += run_tc(skel_->progs.bwa_tc_egress, polite).verdict == TC_ACT_SHOT;
  }
  EXPECT_GE(hog_dropped, 1) << "the flow sending ten times more is told to slow down";
  EXPECT_EQ(polite_dropped, 0);
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.fair_drops[BWA_DIR_DOWN], static_cast<uint64_t>(hog_dropped));
  EXPECT_EQ(c.horizon_drops[BWA_DIR_DOWN], 0u) << "the queue never reached the 1,000 s horizon";
}

// 100,000 distinct flows through one device: the flow table is an array of
// fixed size, each flow takes at most one way, and a flow that finds no
// free way is still paced on the device's clock (never unlimited, never
// lost from the counters).
TEST_F(BpfProgramsTest, FlowStateStaysBoundedUnderAHundredThousandFlows) {
  constexpr uint64_t kRate = 1'000'000'000;
  settings(1'000'000'000, 1'000'000'000, 0);
  policy("10.10.0.5", 0, kRate, 5);
  constexpr int kFlows = 100'000;
  int sent = 0, dropped = 0;
  for (int i = 0; i < kFlows; ++i) {
    PacketSpec spec{false,
                    "198.51.100.2",
                    "10.10.0.5",
                    6,
                    static_cast<uint16_t>(1024 + i % 60000),
                    static_cast<uint16_t>(40000 + i / 60000)};
    spec.src = "198.51." + std::to_string(100 + (i >> 16)) + "." + std::to_string((i >> 8) & 255);
    (run_tc(skel_->progs.bwa_tc_egress, build_packet(spec)).verdict == TC_ACT_SHOT ? dropped : sent)++;
  }
  EXPECT_EQ(bpf_map__max_entries(skel_->maps.bwa_flows), static_cast<uint32_t>(BWA_FLOW_SETS));
  uint64_t occupied = 0;
  for (uint32_t set = 0; set < BWA_FLOW_SETS; ++set) {
    bwa_flow_set value{};
    ASSERT_EQ(bpf_map_lookup_elem(fd(skel_->maps.bwa_flows), &set, &value), 0);
    for (const bwa_flow& way : value.way) occupied += way.tag != 0;
  }
  EXPECT_LE(occupied, static_cast<uint64_t>(BWA_FLOW_SETS) * BWA_FLOW_WAYS);
  EXPECT_GT(occupied, 0u);
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.packets[BWA_DIR_DOWN] + c.horizon_drops[BWA_DIR_DOWN] + c.fair_drops[BWA_DIR_DOWN],
            static_cast<uint64_t>(kFlows))
      << "every packet was either sent and counted or dropped and counted";
  EXPECT_EQ(c.packets[BWA_DIR_DOWN], static_cast<uint64_t>(sent));
  EXPECT_GT(t_last(5, BWA_DIR_DOWN), 0u) << "the device's clock was charged";
}

// Each CPU keeps a copy of a device's policy in its counter entry. After the
// agent writes policies it bumps the generation: every change (block, slot,
// removal) applies from the very next packet, on every program.
TEST_F(BpfProgramsTest, PolicyChangesApplyAtTheNextPacketAfterAGenerationBump) {
  policy("10.10.0.5", 0, 0, 7);
  auto up = build_packet(v4_tcp());
  auto down = build_packet(down_v4());
  ASSERT_EQ(run_xdp(up), XDP_PASS);  // the copies are made here
  ASSERT_EQ(run_tc(skel_->progs.bwa_tc_egress, down).verdict, TC_ACT_OK);
  ASSERT_EQ(run_tc(skel_->progs.bwa_tc_ingress, up).ctx.mark, 7u << BWA_MARK_SHIFT);

  policy("10.10.0.5", 0, 0, 7, BWA_POLICY_BLOCKED);
  bump_policy_generation();
  EXPECT_EQ(run_xdp(up), XDP_DROP);
  EXPECT_EQ(run_tc(skel_->progs.bwa_tc_ingress, up).verdict, TC_ACT_SHOT);
  EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, down).verdict, TC_ACT_SHOT);

  policy("10.10.0.5", 0, 0, 8);  // unblocked, and a new slot
  bump_policy_generation();
  EXPECT_EQ(run_xdp(up), XDP_PASS);
  EXPECT_EQ(run_tc(skel_->progs.bwa_tc_ingress, up).ctx.mark, 8u << BWA_MARK_SHIFT);

  policy("10.10.0.5", 0, 0, 8, BWA_POLICY_BLOCKED);
  bump_policy_generation();
  ASSERT_EQ(run_xdp(up), XDP_DROP);
  remove_policy("10.10.0.5");
  bump_policy_generation();
  EXPECT_EQ(run_xdp(up), XDP_PASS) << "a removed block still drops";
  EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, down).verdict, TC_ACT_OK);
  EXPECT_EQ(run_tc(skel_->progs.bwa_tc_ingress, up).ctx.mark, 0u) << "no policy, no slot mark";

  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.blocked_drops[BWA_DIR_UP], 3u);
  EXPECT_EQ(c.blocked_drops[BWA_DIR_DOWN], 1u);
  EXPECT_EQ(c.packets[BWA_DIR_UP], 6u);  // XDP and tc ingress (which counts here: no XDP attached) three times
  EXPECT_EQ(c.packets[BWA_DIR_DOWN], 2u);
}

// A writer that does not bump the generation (a tool, by hand) is still
// seen once the jiffy the copy was made in is over. The wait is a bound,
// not a measurement: 50 ms is five jiffies even at HZ=100.
TEST_F(BpfProgramsTest, PolicyWrittenWithoutABumpIsSeenWithinAJiffy) {
  policy("10.10.0.5", 0, 0, 7);
  auto up = build_packet(v4_tcp());
  ASSERT_EQ(run_xdp(up), XDP_PASS);
  policy("10.10.0.5", 0, 0, 7, BWA_POLICY_BLOCKED);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(run_xdp(up), XDP_DROP);
}

TEST_F(BpfProgramsTest, TcIngressMarksTheSlotKeepingOtherMarkBits) {
  policy("10.10.0.5", 1'000'000, 0, 7);
  __sk_buff ctx{};
  ctx.mark = 0x1234;
  TcRun run = run_tc(skel_->progs.bwa_tc_ingress, build_packet(v4_tcp()), ctx);
  EXPECT_EQ(run.verdict, TC_ACT_OK);
  EXPECT_EQ(run.ctx.mark, (7u << BWA_MARK_SHIFT) | 0x1234u);
}

TEST_F(BpfProgramsTest, WanEgressPacesUploadByTheMarkAfterNat) {
  constexpr uint64_t kRate = 100;  // seconds per packet: the queue never drains between runs
  settings(1'000'000'000'000, 1'000'000'000'000, BWA_SETTING_ECN | BWA_SETTING_TC_INGRESS_COUNTS);
  policy("10.10.0.5", kRate, 0, 9);
  // After NAT the source is the router's WAN address: only the mark names the device.
  auto packet = build_packet(full_size(
      PacketSpec{.src = "198.51.100.1", .dst = "198.51.100.2", .protocol = 6, .src_port = 40000, .dst_port = 5201}));
  __sk_buff ctx{};
  ctx.mark = 9u << BWA_MARK_SHIFT;
  run_tc(skel_->progs.bwa_tc_wan_egress, packet, ctx);
  TcRun second = run_tc(skel_->progs.bwa_tc_wan_egress, packet, ctx);
  TcRun third = run_tc(skel_->progs.bwa_tc_wan_egress, packet, ctx);
  EXPECT_EQ(third.ctx.tstamp - second.ctx.tstamp, packet.size() * 1'000'000'000ull / kRate);
  EXPECT_GT(t_last(9, BWA_DIR_UP), 0u);

  // A mark whose slot now belongs to no policy is left alone.
  __sk_buff stale{};
  stale.mark = 10u << BWA_MARK_SHIFT;
  TcRun untouched = run_tc(skel_->progs.bwa_tc_wan_egress, packet, stale);
  EXPECT_EQ(untouched.verdict, TC_ACT_OK);
  EXPECT_EQ(untouched.ctx.tstamp, 0u);
}

TEST_F(BpfProgramsTest, UnlimitedAndExemptAllDevicesAreNeverPaced) {
  policy("10.10.0.5", 0, 0, 11);
  policy("10.10.0.6", 1000, 1000, 12, BWA_POLICY_EXEMPT_ALL);
  auto to5 = build_packet(down_v4());
  auto to6 = build_packet(
      PacketSpec{.src = "198.51.100.2", .dst = "10.10.0.6", .protocol = 6, .src_port = 5201, .dst_port = 40000});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, to5).ctx.tstamp, 0u);
    EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, to6).ctx.tstamp, 0u);
  }
  EXPECT_EQ(counters("10.10.0.6").packets[BWA_DIR_DOWN], 5u);
}

}  // namespace
}  // namespace bwalloc
