// The Linux fallback backend (libpcap capture + tc HTB shaping) on the
// router of a virtual LAN, with real traffic: pcap's byte counts match
// iperf3's, HTB holds a heavy device to its rate, a Blocked device gets
// nothing through while a limited device's exempt ports still pass, and
// stopping removes every qdisc, filter and the ifb device.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <thread>

#include "agent/fallback/linux_fallback.h"
#include "agent/runtime/netns.h"
#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using test::BackgroundProcess;
using test::run_command;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwfb";
// A full TCP frame on these veths: 1448 bytes of payload (MSS with
// timestamps) in 14 + 20 + 32 bytes of headers.
constexpr double kPayloadPerFrame = 1448.0;
constexpr double kWirePerFrame = 1514.0;

IpAddress ip(const std::string& text) { return IpAddress::parse(text).value(); }

DevicePolicy limited(const IpAddress& address, Priority priority, uint64_t bits_per_sec) {
  return DevicePolicy{address, priority, bits_per_sec, bits_per_sec, false};
}

double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

class FallbackNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (run_command({"tc", "-V"}).exit_code != 0) GTEST_SKIP() << "tc (iproute2) is not installed";
    lan_.emplace(kPrefix, 3);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
    // One frame per skb on the senders, so every frame pcap sees is a wire frame.
    for (const auto& ns : {lan_->device_ns(1), lan_->device_ns(2), lan_->device_ns(3), lan_->inet_ns()}) {
      ASSERT_EQ(run_in(ns, {"ip", "link", "set", "dev", "eth0", "gso_max_segs", "1"}).exit_code, 0);
    }
    auto entered = NetnsSwitch::enter(lan_->router_ns());
    ASSERT_TRUE(entered.ok()) << entered.message();
    in_router_.emplace(std::move(*entered));
  }

  void TearDown() override {
    datapath_.reset();
    in_router_.reset();
    servers_.clear();
    lan_.reset();
  }

  DatapathConfig config() const {
    DatapathConfig c;
    c.lan_interface = "lan0";
    c.wan_interface = "wan0";
    return c;
  }

  void open_datapath() {
    auto opened = open_pcap_datapath(config());
    if (!opened.ok() && opened.message().find("Operation not supported") != std::string::npos) {
      GTEST_SKIP() << "the kernel lacks a tc feature the fallback needs: " << opened.message();
    }
    ASSERT_TRUE(opened.ok()) << opened.message();
    datapath_ = std::move(*opened);
  }

  DeviceCounters counters_of(const IpAddress& address) {
    // Packets wait in the capture buffer up to the pcap timeout (100 ms).
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    auto all = datapath_->read_counters();
    EXPECT_TRUE(all.ok());
    if (all.ok()) {
      for (const auto& c : *all) {
        if (c.address == address) return c;
      }
    }
    return DeviceCounters{address};
  }

  void start_iperf_servers(const std::vector<int>& ports) {
    for (int port : ports) {
      servers_.push_back(std::make_unique<BackgroundProcess>(
          lan_->inet_ns(), std::vector<std::string>{"iperf3", "-s", "-p", std::to_string(port)}));
    }
    ASSERT_TRUE(test::wait_until_listening(lan_->inet_ns(), ports)) << "iperf3 servers did not start";
  }

  std::optional<VirtualLan> lan_;
  std::optional<NetnsSwitch> in_router_;
  std::unique_ptr<Datapath> datapath_;
  std::vector<std::unique_ptr<BackgroundProcess>> servers_;
};

TEST_F(FallbackNetTest, PcapCountsMatchIperfBytes) {
  open_datapath();
  start_iperf_servers({5201});
  const IpAddress dev1 = ip(VirtualLan::device_ipv4(1));
  run_in(lan_->device_ns(1), {"ping", "-c", "1", "-W", "1", VirtualLan::kInetIpv4});  // warm ARP

  // Upload: the device's frames carry iperf3's bytes in full-sized segments.
  auto before = counters_of(dev1);
  // Paced at 200 Mbit/s so that little sits in socket buffers when
  // iperf3's clock stops (its counts cover only its own interval).
  const std::vector<std::string> paced = {"-b", "200M"};
  auto upload = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 3, false, paced);
  ASSERT_TRUE(upload.ok) << upload.error;
  auto after_up = counters_of(dev1);
  auto download = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 3, true, paced);
  ASSERT_TRUE(download.ok) << download.error;
  auto after_down = counters_of(dev1);

  const double up_payload = static_cast<double>(after_up.up_bytes - before.up_bytes) * kPayloadPerFrame / kWirePerFrame;
  const double down_payload =
      static_cast<double>(after_down.down_bytes - after_up.down_bytes) * kPayloadPerFrame / kWirePerFrame;
  const double up_ratio = ratio(up_payload, static_cast<double>(upload.received_bytes));
  const double down_ratio = ratio(down_payload, static_cast<double>(download.received_bytes));
  const auto status = datapath_->status();
  std::printf("pcap payload estimate / iperf3 bytes: upload %.0f/%llu = %.4f, download %.0f/%llu = %.4f "
              "(capture drops %llu)\n",
              up_payload, static_cast<unsigned long long>(upload.received_bytes), up_ratio, down_payload,
              static_cast<unsigned long long>(download.received_bytes), down_ratio,
              static_cast<unsigned long long>(status.capture_drops));
  RecordProperty("upload_ratio", std::to_string(up_ratio));
  RecordProperty("download_ratio", std::to_string(down_ratio));
  EXPECT_GT(upload.received_bytes, 10'000'000u);
  EXPECT_NEAR(up_ratio, 1.0, 0.02);
  EXPECT_NEAR(down_ratio, 1.0, 0.02);
  EXPECT_EQ(status.capture_drops, 0u);

  // ping: every echo request and reply counted, exactly its frame size.
  auto ping_before = counters_of(dev1);
  auto ping = run_in(lan_->device_ns(1), {"ping", "-q", "-c", "50", "-i", "0.005", "-s", "1000", VirtualLan::kInetIpv4});
  ASSERT_EQ(ping.exit_code, 0) << ping.output;
  auto ping_after = counters_of(dev1);
  EXPECT_EQ(ping_after.up_packets - ping_before.up_packets, 50u);
  EXPECT_EQ(ping_after.up_bytes - ping_before.up_bytes, 50u * (14 + 20 + 8 + 1000));
  EXPECT_EQ(ping_after.down_packets - ping_before.down_packets, 50u);
  EXPECT_EQ(ping_after.down_bytes - ping_before.down_bytes, 50u * (14 + 20 + 8 + 1000));

  // IPv6 is counted under the device's IPv6 address.
  const IpAddress dev1v6 = ip(VirtualLan::device_ipv6(1));
  run_in(lan_->device_ns(1), {"ping", "-6", "-c", "1", "-W", "1", VirtualLan::kInetIpv6});
  auto v6_before = counters_of(dev1v6);
  ASSERT_EQ(run_in(lan_->device_ns(1), {"ping", "-6", "-q", "-c", "20", "-i", "0.01", "-s", "800", VirtualLan::kInetIpv6})
                .exit_code,
            0);
  auto v6_after = counters_of(dev1v6);
  EXPECT_EQ(v6_after.up_packets - v6_before.up_packets, 20u);
  EXPECT_EQ(v6_after.up_bytes - v6_before.up_bytes, 20u * (14 + 40 + 8 + 800));
  EXPECT_EQ(status.backend, "pcap");
}

TEST_F(FallbackNetTest, HtbHoldsAHeavyDeviceToItsRateBothWays) {
  open_datapath();
  start_iperf_servers({5201});
  const IpAddress dev1 = ip(VirtualLan::device_ipv4(1));
  constexpr uint64_t kLimit = 20'000'000;
  ASSERT_TRUE(datapath_->apply_policies({limited(dev1, Priority::Normal, kLimit)}).ok());
  auto down = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 5, true);
  ASSERT_TRUE(down.ok) << down.error;
  auto up = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 5, false);
  ASSERT_TRUE(up.ok) << up.error;
  // HTB counts whole frames; goodput is their payload.
  const double down_wire = down.received_bits_per_second * kWirePerFrame / kPayloadPerFrame;
  const double up_wire = up.received_bits_per_second * kWirePerFrame / kPayloadPerFrame;
  std::printf("HTB limit 20 Mbit/s: download goodput %.3f Mbit/s (wire %.3f), upload goodput %.3f Mbit/s (wire %.3f)\n",
              down.received_bits_per_second / 1e6, down_wire / 1e6, up.received_bits_per_second / 1e6, up_wire / 1e6);
  RecordProperty("download_goodput_bps", std::to_string(down.received_bits_per_second));
  RecordProperty("upload_goodput_bps", std::to_string(up.received_bits_per_second));
  EXPECT_NEAR(down_wire / kLimit, 1.0, 0.05);
  EXPECT_NEAR(up_wire / kLimit, 1.0, 0.05) << "upload is shaped on the ifb device LAN ingress is redirected to";

  // A device without a policy is not held to anyone's rate.
  auto free_run = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 5201, 2, true);
  ASSERT_TRUE(free_run.ok) << free_run.error;
  EXPECT_GT(free_run.received_bits_per_second, 5.0 * kLimit);
}

TEST_F(FallbackNetTest, BlockedGetsNothingThroughWhileProtocolPortsOfALimitedDevicePass) {
  open_datapath();
  start_iperf_servers({5201, 443});
  const IpAddress dev2 = ip(VirtualLan::device_ipv4(2));
  const IpAddress dev2v6 = ip(VirtualLan::device_ipv6(2));
  const IpAddress dev3 = ip(VirtualLan::device_ipv4(3));
  ASSERT_EQ(run_in(lan_->device_ns(2), {"ping", "-c", "1", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0);
  constexpr uint64_t kLimit = 2'000'000;
  ASSERT_TRUE(datapath_
                  ->apply_policies({limited(dev2, Priority::Blocked, 0), limited(dev2v6, Priority::Blocked, 0),
                                    limited(dev3, Priority::Low, kLimit)})
                  .ok());

  // Count, on the internet side, exactly the kinds of packets dev2 tries to send.
  const std::string rules_file = testing::TempDir() + "/bwfb-probe.nft";
  {
    std::ofstream rules(rules_file);
    rules << "table netdev bwfb_probe {\n chain probe {\n"
             "  type filter hook ingress device \"eth0\" priority 0;\n"
             "  ip saddr 10.10.0.12 counter\n  ip6 saddr fd00:10::12 counter\n }\n}\n";
  }
  ASSERT_EQ(run_in(lan_->inet_ns(), {"nft", "-f", rules_file}).exit_code, 0);
  std::filesystem::remove(rules_file);
  auto ping = run_in(lan_->device_ns(2), {"ping", "-q", "-c", "5", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv4});
  EXPECT_NE(ping.exit_code, 0) << "a Blocked device's ping got through: " << ping.output;
  EXPECT_NE(ping.output.find("100% packet loss"), std::string::npos) << ping.output;
  auto ping6 = run_in(lan_->device_ns(2), {"ping", "-6", "-q", "-c", "3", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv6});
  EXPECT_NE(ping6.exit_code, 0);
  auto router_ping = run_in(lan_->device_ns(2), {"ping", "-q", "-c", "2", "-W", "1", "10.10.0.1"});
  EXPECT_NE(router_ping.exit_code, 0) << "Blocked must stop traffic to the router itself too";
  auto tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 5201, 1, false);
  EXPECT_FALSE(tcp.ok) << "a Blocked device connected to iperf3";
  auto exempt_tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 443, 1, false);
  EXPECT_FALSE(exempt_tcp.ok) << "Blocked must drop exempt ports too";
  auto probe = run_in(lan_->inet_ns(), {"nft", "list", "table", "netdev", "bwfb_probe"});
  size_t zeros = 0;
  for (size_t at = probe.output.find("counter packets 0 "); at != std::string::npos;
       at = probe.output.find("counter packets 0 ", at + 1)) {
    ++zeros;
  }
  EXPECT_EQ(zeros, 2u) << "packets of a Blocked device reached the internet: " << probe.output;
  EXPECT_GE(counters_of(dev2).blocked_drops, 5u);

  // dev3 is held to 2 Mbit/s on ordinary ports, but port 443 is exempt.
  auto limited_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 5201, 3, true);
  ASSERT_TRUE(limited_run.ok) << limited_run.error;
  auto exempt_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 443, 2, true);
  ASSERT_TRUE(exempt_run.ok) << exempt_run.error;
  std::printf("limit 2 Mbit/s: port 5201 goodput %.3f Mbit/s, exempt port 443 goodput %.1f Mbit/s\n",
              limited_run.received_bits_per_second / 1e6, exempt_run.received_bits_per_second / 1e6);
  EXPECT_LT(limited_run.received_bits_per_second, 1.1 * kLimit);
  EXPECT_GT(limited_run.received_bits_per_second, 0.8 * kLimit);
  EXPECT_GT(exempt_run.received_bits_per_second, 20.0 * kLimit);
  EXPECT_GT(counters_of(dev3).down_priority_bytes, 1'000'000u);

  // Unblocked, dev2 passes again.
  ASSERT_TRUE(datapath_->apply_policies({limited(dev2, Priority::Normal, 20'000'000), limited(dev2v6, Priority::Normal, 20'000'000)}).ok());
  EXPECT_EQ(run_in(lan_->device_ns(2), {"ping", "-c", "2", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0);
  EXPECT_EQ(run_in(lan_->device_ns(2), {"ping", "-6", "-c", "2", "-W", "1", VirtualLan::kInetIpv6}).exit_code, 0);
}

TEST_F(FallbackNetTest, StopRemovesQdiscsFiltersAndTheIfbDevice) {
  auto before = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  open_datapath();
  ASSERT_TRUE(datapath_->apply_policies({limited(ip(VirtualLan::device_ipv4(1)), Priority::Normal, 20'000'000),
                                         limited(ip(VirtualLan::device_ipv4(2)), Priority::Blocked, 0)})
                  .ok());
  auto during = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  EXPECT_NE(during.output.find("htb"), std::string::npos) << during.output;
  EXPECT_NE(during.output.find("ingress"), std::string::npos) << during.output;
  EXPECT_EQ(run_command({"ip", "link", "show", "dev", kTcIfbInterface}).exit_code, 0);

  datapath_.reset();
  auto after = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  EXPECT_EQ(after.output.find("htb"), std::string::npos) << after.output;
  EXPECT_EQ(after.output.find("ingress"), std::string::npos) << after.output;
  EXPECT_EQ(after.output, before.output) << "lan0's qdiscs are not back to what they were";
  EXPECT_NE(run_command({"ip", "link", "show", "dev", kTcIfbInterface}).exit_code, 0) << "the ifb device stayed";
  EXPECT_EQ(run_command({"tc", "filter", "show", "dev", "lan0", "ingress"}).output, "");
  EXPECT_EQ(run_command({"tc", "filter", "show", "dev", "lan0"}).output, "");
  EXPECT_EQ(run_in(lan_->device_ns(2), {"ping", "-c", "1", "-W", "1", VirtualLan::kInetIpv4}).exit_code, 0)
      << "a block outlived the stopped backend";

  // A leftover tree (an agent killed with SIGKILL) is removed by detach.
  open_datapath();
  auto leftover = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  ASSERT_NE(leftover.output.find("htb"), std::string::npos);
  auto detached = detach_tc_shaper(config());
  ASSERT_TRUE(detached.ok()) << detached.message();
  EXPECT_TRUE(*detached);
  EXPECT_EQ(run_command({"tc", "qdisc", "show", "dev", "lan0"}).output, before.output);
  auto again = detach_tc_shaper(config());
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again) << "nothing left to detach";
}

}  // namespace
}  // namespace bwalloc
