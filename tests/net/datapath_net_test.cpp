// The eBPF datapath attached for real to the router of a virtual LAN, with
// real traffic: counters match the interfaces' own byte counts, a Blocked
// device gets nothing through, priority ports are held to the limit and
// only unlimited ports pass while a device is limited,
// other tools' programs survive, and detach leaves nothing behind.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "agent/datapath/ebpf_datapath.h"
#include "agent/runtime/netns.h"
#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using test::BackgroundProcess;
using test::run_command;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwt-dp-";
constexpr const char* kPinDir = "/sys/fs/bpf/bwt-dp";
constexpr const char* kStateDir = "/tmp/bwt-dp-state";

IpAddress ip(const std::string& text) { return IpAddress::parse(text).value(); }

std::optional<DeviceCounters> counters_of(EbpfDatapath& dp, const IpAddress& address) {
  auto all = dp.read_counters();
  if (!all) return std::nullopt;
  for (const auto& c : *all) {
    if (c.address == address) return c;
  }
  return DeviceCounters{address};
}

DevicePolicy limited(const IpAddress& address, Priority priority, uint64_t bits_per_sec) {
  return DevicePolicy{address, priority, bits_per_sec, bits_per_sec, false};
}

double ratio(uint64_t a, uint64_t b) { return b == 0 ? 0 : static_cast<double>(a) / static_cast<double>(b); }

class DatapathNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    std::filesystem::remove_all(kPinDir);  // a killed earlier run's pins
    std::filesystem::remove_all(kStateDir);
    lan_.emplace(kPrefix, 3);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
    // Senders hand the wire one frame per skb, so the interfaces' byte
    // counters are exact wire bytes to compare the datapath with.
    for (const auto& ns : {lan_->device_ns(1), lan_->device_ns(2), lan_->device_ns(3), lan_->inet_ns()}) {
      ASSERT_EQ(run_in(ns, {"ip", "link", "set", "dev", "eth0", "gso_max_segs", "1"}).exit_code, 0);
    }
    auto entered = NetnsSwitch::enter(lan_->router_ns());
    ASSERT_TRUE(entered.ok()) << entered.message();
    in_router_.emplace(std::move(*entered));
  }

  void TearDown() override {
    datapath_.reset();
    if (in_router_) (void)detach_datapath(config());
    in_router_.reset();
    lan_.reset();
    std::filesystem::remove_all(kPinDir);
    std::filesystem::remove_all(kStateDir);
  }

  DatapathConfig config() const {
    DatapathConfig c;
    // "auto" leaves XDP off veth links; these tests exercise the XDP hook.
    c.ingress_mode = IngressAttachMode::XdpNative;
    c.lan_interface = "lan0";
    c.wan_interface = "wan0";
    c.pin_dir = kPinDir;
    c.state_dir = kStateDir;
    return c;
  }

  void open_datapath() {
    auto opened = EbpfDatapath::open(config());
    ASSERT_TRUE(opened.ok()) << opened.message();
    datapath_ = std::move(*opened);
  }

  // Starts iperf3 servers on the internet side and waits until they answer.
  void start_iperf_servers(const std::vector<int>& ports) {
    for (int port : ports) {
      servers_.push_back(std::make_unique<BackgroundProcess>(
          lan_->inet_ns(), std::vector<std::string>{"iperf3", "-s", "-p", std::to_string(port)}));
    }
    ASSERT_TRUE(test::wait_until_listening(lan_->inet_ns(), ports)) << "iperf3 servers did not start";
  }

  std::optional<VirtualLan> lan_;
  std::optional<NetnsSwitch> in_router_;
  std::unique_ptr<EbpfDatapath> datapath_;
  std::vector<std::unique_ptr<BackgroundProcess>> servers_;
};

TEST_F(DatapathNetTest, StatusShowsProgramsMapsAndPacing) {
  open_datapath();
  DatapathStatus status = datapath_->status();
  EXPECT_EQ(status.backend, Backend::Ebpf);
  std::vector<std::string> hooks;
  for (const auto& p : status.programs) hooks.push_back(p.interface + " " + p.hook + " " + p.program);
  ASSERT_EQ(status.programs.size(), 4u) << ::testing::PrintToString(hooks);
  EXPECT_EQ(status.programs[0].program, "bwa_xdp_ingress");
  EXPECT_NE(status.programs[0].hook.find("xdp"), std::string::npos);
  ASSERT_FALSE(status.maps.empty());
  EXPECT_EQ(status.maps[0].name, "bwa_counters");
  // The counter LRU holds every device of the policy map plus room for
  // addresses without a policy and the kernel's per-CPU free reserve.
  EXPECT_GE(status.maps[0].max_entries, 65536u + 65536u / 4);
  if (!status.pacing_active) {
    EXPECT_NE(status.pacing_note.find("policer"), std::string::npos) << status.pacing_note;
  }
  auto pinned = read_pinned_status(config());
  ASSERT_TRUE(pinned.ok()) << pinned.message();
  EXPECT_EQ(pinned->programs.size(), 4u);
}

TEST_F(DatapathNetTest, CountersMatchInterfaceBytesForIperfAndPing) {
  open_datapath();
  start_iperf_servers({5201});
  const IpAddress dev1 = ip(VirtualLan::device_ipv4(1));
  // Warm ARP so neighbour traffic does not fall inside the measurement.
  run_in(lan_->device_ns(1), test::ping_until_answered(1, VirtualLan::kInetIpv4));

  auto before_if = lan_->interface_bytes(lan_->device_ns(1), "eth0");
  auto before = counters_of(*datapath_, dev1);
  ASSERT_TRUE(before);
  auto upload = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 2, false);
  ASSERT_TRUE(upload.ok) << upload.error;
  auto download = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 2, true);
  ASSERT_TRUE(download.ok) << download.error;
  auto after_if = lan_->interface_bytes(lan_->device_ns(1), "eth0");
  auto after = counters_of(*datapath_, dev1);
  ASSERT_TRUE(after);

  uint64_t up = after->up_bytes - before->up_bytes;
  uint64_t down = after->down_bytes - before->down_bytes;
  uint64_t sent = after_if.tx_bytes - before_if.tx_bytes;
  uint64_t received = after_if.rx_bytes - before_if.rx_bytes;
  RecordProperty("upload_ratio", std::to_string(ratio(up, sent)));
  RecordProperty("download_ratio", std::to_string(ratio(down, received)));
  std::printf("counters/interface: upload %llu/%llu = %.5f, download %llu/%llu = %.5f\n",
              static_cast<unsigned long long>(up), static_cast<unsigned long long>(sent), ratio(up, sent),
              static_cast<unsigned long long>(down), static_cast<unsigned long long>(received), ratio(down, received));
  EXPECT_GT(sent, 1'000'000u);
  EXPECT_NEAR(ratio(up, sent), 1.0, 0.01);
  EXPECT_NEAR(ratio(down, received), 1.0, 0.01);

  // ping: every echo request counted, exactly its frame size.
  auto ping_before = counters_of(*datapath_, dev1);
  auto ping =
      run_in(lan_->device_ns(1), {"ping", "-q", "-c", "100", "-i", "0.002", "-s", "1000", VirtualLan::kInetIpv4});
  ASSERT_EQ(ping.exit_code, 0) << ping.output;
  auto ping_after = counters_of(*datapath_, dev1);
  EXPECT_EQ(ping_after->up_packets - ping_before->up_packets, 100u);
  EXPECT_EQ(ping_after->up_bytes - ping_before->up_bytes, 100u * (14 + 20 + 8 + 1000));
  EXPECT_EQ(ping_after->down_packets - ping_before->down_packets, 100u);
  EXPECT_EQ(ping_after->down_bytes - ping_before->down_bytes, 100u * (14 + 20 + 8 + 1000));
}

TEST_F(DatapathNetTest, Ipv6TrafficIsCountedUnderTheIpv6Address) {
  open_datapath();
  const IpAddress dev2 = ip(VirtualLan::device_ipv6(2));
  run_in(lan_->device_ns(2), test::ping_until_answered(1, VirtualLan::kInetIpv6, {"-6"}));
  auto before = counters_of(*datapath_, dev2);
  auto ping =
      run_in(lan_->device_ns(2), {"ping", "-6", "-q", "-c", "20", "-i", "0.01", "-s", "800", VirtualLan::kInetIpv6});
  ASSERT_EQ(ping.exit_code, 0) << ping.output;
  auto after = counters_of(*datapath_, dev2);
  EXPECT_EQ(after->up_packets - before->up_packets, 20u);
  EXPECT_EQ(after->up_bytes - before->up_bytes, 20u * (14 + 40 + 8 + 800));
  // Echo replies plus, at most, the router's neighbour solicitations.
  EXPECT_GE(after->down_packets - before->down_packets, 20u);
  EXPECT_LE(after->down_packets - before->down_packets, 22u);
}

TEST_F(DatapathNetTest, BlockedDeviceGetsNothingThrough) {
  open_datapath();
  const IpAddress dev2 = ip(VirtualLan::device_ipv4(2));
  const IpAddress dev2v6 = ip(VirtualLan::device_ipv6(2));
  ASSERT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(1, VirtualLan::kInetIpv4)).exit_code, 0);
  ASSERT_TRUE(
      datapath_->apply_policies({limited(dev2, Priority::Blocked, 0), limited(dev2v6, Priority::Blocked, 0)}).ok());

  // Count, on the internet side, exactly the kinds of packets dev2 tries to
  // send (the router's own ARP/ND chatter must not count).
  const std::string rules_file = std::string(kStateDir) + "-probe.nft";
  {
    std::ofstream rules(rules_file);
    rules << "table netdev bwt_probe {\n chain probe {\n"
             "  type filter hook ingress device \"eth0\" priority 0;\n"
             "  icmp type echo-request counter\n  icmpv6 type echo-request counter\n"
             "  tcp dport 5201 counter\n }\n}\n";
  }
  ASSERT_EQ(run_in(lan_->inet_ns(), {"nft", "-f", rules_file}).exit_code, 0);
  std::filesystem::remove(rules_file);
  auto ping = run_in(lan_->device_ns(2), {"ping", "-q", "-c", "5", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv4});
  EXPECT_NE(ping.exit_code, 0) << "a Blocked device's ping got through";
  auto ping6 =
      run_in(lan_->device_ns(2), {"ping", "-6", "-q", "-c", "3", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv6});
  EXPECT_NE(ping6.exit_code, 0);
  auto tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 5201, 1, false, {}, 3000);  // must not connect
  EXPECT_FALSE(tcp.ok);
  auto probe = run_in(lan_->inet_ns(), {"nft", "list", "table", "netdev", "bwt_probe"});
  EXPECT_EQ(probe.output.find("counter packets 0"), probe.output.find("counter packets"));
  EXPECT_EQ(probe.output.find("counter packets 1"), std::string::npos) << probe.output;
  size_t zeros = 0;
  for (size_t at = probe.output.find("counter packets 0 "); at != std::string::npos;
       at = probe.output.find("counter packets 0 ", at + 1)) {
    ++zeros;
  }
  EXPECT_EQ(zeros, 3u) << "packets of a Blocked device reached the internet: " << probe.output;
  auto c = counters_of(*datapath_, dev2);
  EXPECT_GE(c->blocked_drops, 5u);

  ASSERT_TRUE(
      datapath_->apply_policies({limited(dev2, Priority::Normal, 0), limited(dev2v6, Priority::Normal, 0)}).ok());
  EXPECT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(2, VirtualLan::kInetIpv4)).exit_code, 0);
}

// Priority port 443 (HTTPS, QUIC: most of today's bulk traffic) is held to
// the limit like any port; only a port the operator lists as unlimited
// passes, counted.
TEST_F(DatapathNetTest, PriorityPortsCountAgainstTheLimitUnlimitedPortsPass) {
  open_datapath();
  start_iperf_servers({5201, 443, 8443});
  const IpAddress dev3 = ip(VirtualLan::device_ipv4(3));
  constexpr uint64_t kLimit = 2'000'000;  // 2 Mbit/s both directions
  ASSERT_TRUE(datapath_->apply_policies({limited(dev3, Priority::Low, kLimit)}).ok());

  auto limited_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 5201, 3, true);
  ASSERT_TRUE(limited_run.ok) << limited_run.error;
  auto https_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 443, 3, true);
  ASSERT_TRUE(https_run.ok) << https_run.error;
  DatapathConfig with_unlimited = config();
  with_unlimited.unlimited_ports = {{6, 8443}};
  ASSERT_TRUE(datapath_->update_settings(with_unlimited).ok());
  auto unlimited_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 8443, 2, true);
  ASSERT_TRUE(unlimited_run.ok) << unlimited_run.error;
  std::printf("limit %.1f Mbit/s: port 5201 goodput %.3f, priority port 443 %.3f, unlimited port 8443 %.1f Mbit/s\n",
              kLimit / 1e6, limited_run.received_bits_per_second / 1e6, https_run.received_bits_per_second / 1e6,
              unlimited_run.received_bits_per_second / 1e6);
  RecordProperty("limited_goodput_bps", std::to_string(limited_run.received_bits_per_second));
  RecordProperty("priority_goodput_bps", std::to_string(https_run.received_bits_per_second));
  RecordProperty("unlimited_goodput_bps", std::to_string(unlimited_run.received_bits_per_second));
  EXPECT_LT(limited_run.received_bits_per_second, 1.5 * kLimit);
  EXPECT_GT(limited_run.received_bits_per_second, 0.05 * kLimit);
  EXPECT_LT(https_run.received_bits_per_second, 1.5 * kLimit) << "443 passed the limit";
  EXPECT_GT(https_run.received_bits_per_second, 0.05 * kLimit);
  EXPECT_GT(unlimited_run.received_bits_per_second, 20.0 * kLimit);
  auto c = counters_of(*datapath_, dev3);
  EXPECT_GT(c->down_priority_bytes, 100'000u);
  EXPECT_GT(c->down_unlimited_bytes, 1'000'000u);
}

TEST_F(DatapathNetTest, LimitHoldsInBothDirections) {
  open_datapath();
  start_iperf_servers({5201});
  const IpAddress dev1 = ip(VirtualLan::device_ipv4(1));
  constexpr uint64_t kLimit = 20'000'000;  // Normal
  ASSERT_TRUE(datapath_->apply_policies({limited(dev1, Priority::Normal, kLimit)}).ok());
  auto down = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 5, true);
  ASSERT_TRUE(down.ok) << down.error;
  auto up = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 5, false);
  ASSERT_TRUE(up.ok) << up.error;
  const char* mode = datapath_->status().pacing_active ? "EDT pacing" : "policer";
  std::printf("limit 20 Mbit/s (%s): download goodput %.2f Mbit/s, upload goodput %.2f Mbit/s\n", mode,
              down.received_bits_per_second / 1e6, up.received_bits_per_second / 1e6);
  RecordProperty("download_goodput_bps", std::to_string(down.received_bits_per_second));
  RecordProperty("upload_goodput_bps", std::to_string(up.received_bits_per_second));
  // Goodput is payload; the limit counts wire bytes, so it sits a little below.
  EXPECT_GT(down.received_bits_per_second, 0.8 * kLimit);
  EXPECT_LT(down.received_bits_per_second, 1.1 * kLimit);
  EXPECT_GT(up.received_bits_per_second, 0.8 * kLimit) << "upload is shaped on wan0 by the slot mark, after NAT";
  EXPECT_LT(up.received_bits_per_second, 1.1 * kLimit);
}

TEST_F(DatapathNetTest, ForeignProgramsSurviveAndDetachLeavesNothingBehind) {
  const std::string foreign = std::string(BWALLOC_FOREIGN_BPF_OBJECT);
  // iproute2 creates its own pin folders on first use; remove them after if
  // this test is what created them.
  std::vector<std::string> iproute2_dirs;
  for (const char* dir : {"/sys/fs/bpf/tc", "/sys/fs/bpf/xdp", "/sys/fs/bpf/ip"}) {
    if (!std::filesystem::exists(dir)) iproute2_dirs.push_back(dir);
  }
  struct RemoveOnExit {
    std::vector<std::string>& dirs;
    ~RemoveOnExit() {
      for (const auto& d : dirs) std::filesystem::remove_all(d);
    }
  } remove_iproute2_dirs{iproute2_dirs};
  auto x = run_command({"ip", "link", "set", "dev", "lan0", "xdpgeneric", "obj", foreign, "sec", "xdp"});
  ASSERT_EQ(x.exit_code, 0) << x.output;
  ASSERT_EQ(run_command({"tc", "qdisc", "add", "dev", "wan0", "clsact"}).exit_code, 0);
  auto f = run_command(
      {"tc", "filter", "add", "dev", "wan0", "egress", "prio", "7", "bpf", "da", "obj", foreign, "sec", "tc"});
  ASSERT_EQ(f.exit_code, 0) << f.output;

  open_datapath();  // XDP is taken: the datapath falls back to tc ingress counting
  DatapathStatus status = datapath_->status();
  for (const auto& p : status.programs) EXPECT_EQ(p.hook.find("xdp"), std::string::npos) << p.program;
  EXPECT_NE(status.pacing_note.find("another program"), std::string::npos) << status.pacing_note;
  auto dev1 = ip(VirtualLan::device_ipv4(1));
  ASSERT_EQ(run_in(lan_->device_ns(1), {"ping", "-c", "3", "-i", "0.1", VirtualLan::kInetIpv4}).exit_code, 0);
  EXPECT_GE(counters_of(*datapath_, dev1)->up_packets, 3u) << "tc ingress must count when XDP cannot attach";

  datapath_.reset();
  auto detached = detach_datapath(config());
  ASSERT_TRUE(detached.ok()) << detached.message();
  EXPECT_FALSE(std::filesystem::exists(kPinDir));
  auto link = run_command({"ip", "-d", "link", "show", "dev", "lan0"});
  EXPECT_NE(link.output.find("foreign_xdp"), std::string::npos) << "the foreign XDP program was removed";
  auto lan_filters = run_command({"tc", "filter", "show", "dev", "lan0", "ingress"});
  EXPECT_EQ(lan_filters.output.find("bwa_"), std::string::npos) << lan_filters.output;
  auto lan_qdiscs = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  EXPECT_EQ(lan_qdiscs.output.find("clsact"), std::string::npos) << "clsact we created stayed: " << lan_qdiscs.output;
  auto wan_filters = run_command({"tc", "filter", "show", "dev", "wan0", "egress"});
  EXPECT_NE(wan_filters.output.find("foreign_tc"), std::string::npos) << wan_filters.output;
  EXPECT_EQ(wan_filters.output.find("bwa_"), std::string::npos) << wan_filters.output;
  EXPECT_TRUE(detach_datapath(config()).ok()) << "a second detach must succeed";
  run_command({"ip", "link", "set", "dev", "lan0", "xdpgeneric", "off"});
}

TEST_F(DatapathNetTest, RestartAdoptsPinsAndKeepsPolicies) {
  open_datapath();
  const IpAddress dev2 = ip(VirtualLan::device_ipv4(2));
  ASSERT_TRUE(datapath_->apply_policies({limited(dev2, Priority::Blocked, 0)}).ok());
  ASSERT_NE(run_in(lan_->device_ns(2), {"ping", "-c", "1", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0);
  auto before = counters_of(*datapath_, dev2);
  datapath_.reset();  // the agent goes away: the block must hold
  EXPECT_NE(run_in(lan_->device_ns(2), {"ping", "-c", "2", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0);
  open_datapath();
  auto after = counters_of(*datapath_, dev2);
  EXPECT_GE(after->blocked_drops, before->blocked_drops + 2) << "counters went backwards or the block lapsed";
  EXPECT_NE(run_in(lan_->device_ns(2), {"ping", "-c", "1", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0);
}

}  // namespace
}  // namespace bwalloc
