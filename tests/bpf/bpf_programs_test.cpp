// The datapath programs run through BPF_PROG_TEST_RUN, Katran style: each
// case is a described packet, the policy around it, the verdict it must get
// and the counters it must leave. Then the EDT pacer: departure spacing,
// horizon drops, CE marking, exemptions, the upload mark and the WAN side.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <unistd.h>

#include <chrono>
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

  void exempt(uint8_t protocol, uint16_t port) {
    uint32_t word = bwa_exempt_word(protocol == 17, port);
    uint64_t bits = 0;
    ASSERT_EQ(bpf_map_lookup_elem(fd(skel_->maps.bwa_exempt), &word, &bits), 0);
    bits |= bwa_exempt_bit(port);
    ASSERT_EQ(bpf_map_update_elem(fd(skel_->maps.bwa_exempt), &word, &bits, BPF_ANY), 0);
  }

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
        sum.exempt_bytes[d] += c.exempt_bytes[d];
        sum.blocked_drops[d] += c.blocked_drops[d];
        sum.horizon_drops[d] += c.horizon_drops[d];
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
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_size_in = static_cast<uint32_t>(packet.size()));
    int rc = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.bwa_xdp_ingress), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    return static_cast<int>(opts.retval);
  }

  TcRun run_tc(bpf_program* prog, const std::vector<uint8_t>& packet, __sk_buff ctx_in = {}) {
    TcRun run;
    run.data.resize(packet.size() + 256);
    LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet.data(), .data_out = run.data.data(),
                .data_size_in = static_cast<uint32_t>(packet.size()),
                .data_size_out = static_cast<uint32_t>(run.data.size()), .ctx_in = &ctx_in,
                .ctx_out = &run.ctx, .ctx_size_in = sizeof ctx_in, .ctx_size_out = sizeof run.ctx);
    int rc = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
    EXPECT_EQ(rc, 0) << std::strerror(errno);
    run.verdict = static_cast<int>(opts.retval);
    run.data.resize(opts.data_size_out);
    return run;
  }

  bwalloc_bpf* skel_ = nullptr;
};

// ---- The table: parsing, counting, blocking, exemptions on every program ----

enum class Program { Xdp, TcIngress, TcEgress };

struct CountCase {
  const char* description;
  Program program;
  PacketSpec spec;
  std::function<std::vector<uint8_t>(std::vector<uint8_t>)> mangle;  // truncation / corruption
  uint8_t policy_flags;       // for the device the packet belongs to
  int expected_verdict;
  const char* counted_as;     // the device whose counters must move ("" = none)
  bool expect_exempt;
  bool expect_blocked;
  bool expect_unparsed;
};

PacketSpec v4_tcp(uint16_t dport = 5201) { return PacketSpec{false, "10.10.0.5", "198.51.100.2", 6, 40000, dport}; }
PacketSpec down_v4(uint16_t sport = 5201) { return PacketSpec{false, "198.51.100.2", "10.10.0.5", 6, sport, 40000}; }
PacketSpec v6_udp(uint16_t dport) { return PacketSpec{true, "fd00:10::5", "fd00:51::2", 17, 40000, dport}; }

std::vector<uint8_t> keep(std::vector<uint8_t> p) { return p; }
std::function<std::vector<uint8_t>(std::vector<uint8_t>)> cut_to(size_t n) {
  return [n](std::vector<uint8_t> p) { p.resize(n); return p; };
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
  auto bad_ihl = [](std::vector<uint8_t> p) { p[14] = 0x44; return p; };
  auto bad_version = [](std::vector<uint8_t> p) { p[14] = 0x65; return p; };
  const uint8_t none = 0, blocked = BWA_POLICY_BLOCKED;
  return {
      {"IPv4 TCP upload counted by source", Program::Xdp, v4_tcp(), keep, none, XDP_PASS, "10.10.0.5", false, false, false},
      {"IPv4 TCP upload counted by tc when XDP is absent", Program::TcIngress, v4_tcp(), keep, none, TC_ACT_OK, "10.10.0.5", false, false, false},
      {"IPv4 download counted by destination", Program::TcEgress, down_v4(), keep, none, TC_ACT_OK, "10.10.0.5", false, false, false},
      {"one VLAN tag", Program::Xdp, vlan1, keep, none, XDP_PASS, "10.10.0.5", false, false, false},
      {"two VLAN tags (QinQ)", Program::Xdp, vlan2, keep, none, XDP_PASS, "10.10.0.5", false, false, false},
      {"three VLAN tags: more than parsed, fails open", Program::Xdp, vlan3, keep, none, XDP_PASS, "", false, false, true},
      {"IPv4 options skipped to reach the DNS port", Program::Xdp, options, keep, none, XDP_PASS, "10.10.0.5", true, false, false},
      {"ICMP counted, never exempt", Program::Xdp, icmp, keep, none, XDP_PASS, "10.10.0.5", false, false, false},
      {"IPv6 UDP NTP exempt", Program::Xdp, v6_udp(123), keep, none, XDP_PASS, "fd00:10::5", true, false, false},
      {"IPv6 hop-by-hop headers walked to UDP", Program::Xdp, v6_hbh, keep, none, XDP_PASS, "fd00:10::5", true, false, false},
      {"IPv6 with more extension headers than walked fails open", Program::Xdp, v6_too_many, keep, none, XDP_PASS, "", false, false, true},
      {"ICMPv6 counted", Program::Xdp, icmp6, keep, none, XDP_PASS, "fd00:10::5", false, false, false},
      {"ARP passes uncounted and is not 'unparsed'", Program::Xdp, v4_tcp(), [](std::vector<uint8_t>) { return build_arp(); }, none, XDP_PASS, "", false, false, false},
      {"truncated VLAN tag fails open", Program::Xdp, vlan1, cut_to(16), none, XDP_PASS, "", false, false, true},
      {"truncated IPv4 header fails open", Program::Xdp, v4_tcp(), cut_to(14 + 12), none, XDP_PASS, "", false, false, true},
      {"truncated TCP ports fail open", Program::Xdp, v4_tcp(), cut_to(14 + 20 + 2), none, XDP_PASS, "", false, false, true},
      {"IPv4 ihl below 5 fails open", Program::Xdp, v4_tcp(), bad_ihl, none, XDP_PASS, "", false, false, true},
      {"IP version mismatch fails open", Program::Xdp, v4_tcp(), bad_version, none, XDP_PASS, "", false, false, true},
      {"truncated IPv6 header fails open", Program::Xdp, v6_udp(53), cut_to(14 + 30), none, XDP_PASS, "", false, false, true},
      {"truncated UDP header fails open on egress", Program::TcEgress, v6_udp(53), cut_to(14 + 40 + 3), none, TC_ACT_OK, "", false, false, true},
      {"Blocked device dropped at XDP", Program::Xdp, v4_tcp(), keep, blocked, XDP_DROP, "10.10.0.5", false, true, false},
      {"Blocked device dropped even on an exempt port", Program::Xdp, v4_tcp(443), keep, blocked, XDP_DROP, "10.10.0.5", false, true, false},
      {"Blocked device dropped by tc ingress without XDP", Program::TcIngress, v4_tcp(), keep, blocked, TC_ACT_SHOT, "10.10.0.5", false, true, false},
      {"Blocked device's download dropped", Program::TcEgress, down_v4(), keep, blocked, TC_ACT_SHOT, "10.10.0.5", false, true, false},
      {"Blocked IPv6 device dropped", Program::Xdp, v6_udp(9999), keep, blocked, XDP_DROP, "fd00:10::5", false, true, false},
  };
}

TEST_F(BpfProgramsTest, ParsingCountingBlockingTable) {
  exempt(6, 53);
  exempt(17, 53);
  exempt(6, 443);
  exempt(17, 123);
  for (const CountCase& c : count_cases()) {
    SCOPED_TRACE(c.description);
    // Each case starts from empty counters and a policy for its device.
    TearDown();
    SetUp();
    exempt(6, 53);
    exempt(17, 53);
    exempt(6, 443);
    exempt(17, 123);
    std::string device = c.spec.ipv6 ? "fd00:10::5" : "10.10.0.5";
    policy(device, 0, 0, 1, c.policy_flags);
    std::vector<uint8_t> packet = c.mangle(build_packet(c.spec));
    int verdict = -1;
    switch (c.program) {
      case Program::Xdp: verdict = run_xdp(packet); break;
      case Program::TcIngress: verdict = run_tc(skel_->progs.bwa_tc_ingress, packet).verdict; break;
      case Program::TcEgress: verdict = run_tc(skel_->progs.bwa_tc_egress, packet).verdict; break;
    }
    EXPECT_EQ(verdict, c.expected_verdict);
    int dir = c.program == Program::TcEgress ? BWA_DIR_DOWN : BWA_DIR_UP;
    bwa_counters counted = counters(device);
    if (std::string(c.counted_as).empty()) {
      EXPECT_EQ(counted.packets[0] + counted.packets[1] + counted.blocked_drops[0] + counted.blocked_drops[1], 0u);
    } else if (c.expect_blocked) {
      EXPECT_EQ(counted.blocked_drops[dir], 1u);
      EXPECT_EQ(counted.bytes[dir], 0u) << "dropped packets are not delivered bytes";
    } else {
      EXPECT_EQ(counted.packets[dir], 1u);
      EXPECT_EQ(counted.bytes[dir], packet.size()) << "bytes = frame length";
      EXPECT_EQ(counted.exempt_bytes[dir], c.expect_exempt ? packet.size() : 0u);
      EXPECT_GT(counted.last_seen_ns, 0u);
    }
    EXPECT_EQ(global().unparsed_packets, c.expect_unparsed ? 1u : 0u);
  }
}

TEST_F(BpfProgramsTest, UnknownDevicesAppearByThemselves) {
  run_xdp(build_packet(PacketSpec{false, "10.10.0.77", "198.51.100.2"}));
  run_xdp(build_packet(PacketSpec{false, "10.10.0.77", "198.51.100.2"}));
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
  // 0.1 s per byte: ~15 s between departures, so the queue never drains
  // between two test runs however slow the machine (qemu's TCG, a loaded
  // host: 1 us and then 100 us per byte let the device go idle). A 1,000 s
  // horizon keeps the five queued packets from dropping.
  constexpr uint64_t kRate = 10;  // bytes/s
  settings(1'000'000'000'000, 1'000'000'000'000, 0);
  policy("10.10.0.5", 0, kRate, 3);
  auto packet = build_packet(down_v4());
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
  auto packet = build_packet(down_v4());  // the first segment's headers + payload
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
  constexpr uint64_t kRate = 100;  // 10 ms per byte: a 154 B frame waits 1.54 s
  settings(5'000'000'000, 1'000'000'000'000, 0);  // 5 s horizon, CE off
  policy("10.10.0.5", 0, kRate, 4);
  auto packet = build_packet(down_v4());
  int sent = 0, dropped = 0;
  for (int i = 0; i < 40; ++i) {
    int verdict = run_tc(skel_->progs.bwa_tc_egress, packet).verdict;
    (verdict == TC_ACT_SHOT ? dropped : sent)++;
  }
  EXPECT_GT(dropped, 0);
  // 5 s of horizon plus one packet's own time: about 4-5 packets queue.
  EXPECT_GE(sent, 3);
  EXPECT_LE(sent, 8);
  bwa_counters c = counters("10.10.0.5");
  EXPECT_EQ(c.horizon_drops[BWA_DIR_DOWN], static_cast<uint64_t>(dropped));
  EXPECT_EQ(c.packets[BWA_DIR_DOWN], static_cast<uint64_t>(sent));
}

TEST_F(BpfProgramsTest, EcnCapablePacketsAreMarkedCeAboveTarget) {
  constexpr uint64_t kRate = 100;  // 1.54 s per packet
  settings(50'000'000'000, 2'000'000'000, BWA_SETTING_ECN);  // CE above 2 s of queue
  policy("10.10.0.5", 0, kRate, 5);
  PacketSpec spec = down_v4();
  spec.ecn = 2;  // ECT(0)
  auto packet = build_packet(spec);
  uint8_t last_ecn = 0;
  for (int i = 0; i < 5; ++i) {
    TcRun run = run_tc(skel_->progs.bwa_tc_egress, packet);
    ASSERT_EQ(run.verdict, TC_ACT_OK);
    last_ecn = run.data[15] & 3;
  }
  EXPECT_EQ(last_ecn, 3) << "the fifth packet waits ~6 s: above the 2 s target, so CE";
  EXPECT_GT(counters("10.10.0.5").ce_marks[BWA_DIR_DOWN], 0u);
  EXPECT_EQ(counters("10.10.0.5").horizon_drops[BWA_DIR_DOWN], 0u);
}

TEST_F(BpfProgramsTest, ExemptPortsAreNeverDelayedAndNeverAdvanceTheClock) {
  exempt(6, 443);
  policy("10.10.0.5", 0, 10, 6);  // 10 B/s: anything paced would wait seconds
  auto https = build_packet(down_v4(443));
  for (int i = 0; i < 10; ++i) {
    TcRun run = run_tc(skel_->progs.bwa_tc_egress, https);
    EXPECT_EQ(run.verdict, TC_ACT_OK);
    EXPECT_EQ(run.ctx.tstamp, 0u);
  }
  EXPECT_EQ(t_last(6, BWA_DIR_DOWN), 0u);
  EXPECT_EQ(counters("10.10.0.5").exempt_bytes[BWA_DIR_DOWN], 10 * https.size());
}

// The exempt set is a bitmap per protocol: its edges (ports 0 and 65535,
// the bits either side of a word boundary) and the protocol split must be
// exact. A paced packet at 10 B/s gets a departure time (seconds away); an
// exempt one not.
TEST_F(BpfProgramsTest, ExemptBitmapEdgesAndProtocols) {
  exempt(6, 0);
  exempt(17, 65535);
  exempt(6, 63);
  exempt(17, 64);
  struct PortCase {
    uint8_t protocol;
    uint16_t src_port;
    uint16_t dst_port;
    bool exempt;
  };
  const PortCase cases[] = {
      {6, 0, 40000, true},       // TCP port 0, first bit of the TCP words
      {6, 40000, 0, true},       // ... as the destination too
      {17, 0, 40000, false},     // UDP port 0 is a different bit
      {17, 65535, 40000, true},  // UDP port 65535, last bit of the whole map
      {17, 40000, 65535, true},
      {6, 65535, 40000, false},  // TCP 65535: last TCP bit, not set
      {6, 63, 40000, true},      // last bit of TCP word 0
      {6, 64, 40000, false},     // first bit of TCP word 1
      {17, 64, 40000, true},     // first bit of UDP word 1025
      {17, 63, 40000, false},
      {1, 0, 0, false},          // ICMP has no ports, never exempt
  };
  uint32_t slot = 20;
  for (const PortCase& c : cases) {
    SCOPED_TRACE(std::to_string(c.protocol) + " " + std::to_string(c.src_port) + " -> " +
                 std::to_string(c.dst_port));
    std::string device = "10.10.1." + std::to_string(slot);
    policy(device, 0, 10, slot++);  // 10 B/s: anything paced waits seconds
    auto packet = build_packet(PacketSpec{false, "198.51.100.2", device, c.protocol, c.src_port, c.dst_port});
    run_tc(skel_->progs.bwa_tc_egress, packet);  // the first packet of an idle device leaves at once
    TcRun second = run_tc(skel_->progs.bwa_tc_egress, packet);
    EXPECT_EQ(second.verdict, TC_ACT_OK);
    EXPECT_EQ(second.ctx.tstamp == 0, c.exempt);
    EXPECT_EQ(counters(device).exempt_bytes[BWA_DIR_DOWN], c.exempt ? 2 * packet.size() : 0u);
    EXPECT_EQ(counters(device).packets[BWA_DIR_DOWN], 2u);
  }
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
  auto packet = build_packet(PacketSpec{false, "198.51.100.1", "198.51.100.2", 6, 40000, 5201});
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
  auto to6 = build_packet(PacketSpec{false, "198.51.100.2", "10.10.0.6", 6, 5201, 40000});
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, to5).ctx.tstamp, 0u);
    EXPECT_EQ(run_tc(skel_->progs.bwa_tc_egress, to6).ctx.tstamp, 0u);
  }
  EXPECT_EQ(counters("10.10.0.6").packets[BWA_DIR_DOWN], 5u);
}

}  // namespace
}  // namespace bwalloc
