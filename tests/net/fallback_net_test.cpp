// The Linux fallback backend (libpcap capture + tc HTB shaping) on the
// router of a virtual LAN, with real traffic: pcap's byte counts match
// iperf3's, HTB holds a heavy device to its rate, a Blocked device gets
// nothing through (priority and unlimited ports neither), a limited
// device's priority port 443 is held to its limit like any port (through
// its priority child, IPv4 and IPv6) while an operator's unlimited port
// passes, and stopping removes every qdisc, filter and the ifb device.
#include <gtest/gtest.h>

#include <algorithm>
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
// dev4 sends nothing but the marker echoes of counters_of().
constexpr int kMarkerDevice = 4;

IpAddress ip(const std::string& text) { return IpAddress::parse(text).value(); }

DevicePolicy limited(const IpAddress& address, Priority priority, uint64_t bits_per_sec) {
  return DevicePolicy{address, priority, bits_per_sec, bits_per_sec, false};
}

double ratio(double a, double b) { return b == 0 ? 0 : a / b; }

// Bytes sent by the HTB classes of `dev` whose minor starts with `prefix`
// ("4": the devices' priority children, "8": their bulk children), from
// `tc -s class show`: "class htb 1:4001 parent 1:11 ..." then " Sent N bytes".
uint64_t class_bytes(const std::string& dev, const std::string& prefix) {
  const auto shown = run_command({"tc", "-s", "class", "show", "dev", dev});
  uint64_t total = 0;
  bool counting = false;
  size_t at = 0;
  while (at < shown.output.size()) {
    size_t end = shown.output.find('\n', at);
    if (end == std::string::npos) end = shown.output.size();
    const std::string line = shown.output.substr(at, end - at);
    at = end + 1;
    if (line.rfind("class htb 1:", 0) == 0) {
      counting = line.compare(12, prefix.size(), prefix) == 0 && line.find(" parent 1:") != std::string::npos;
    } else if (counting && line.rfind(" Sent ", 0) == 0) {
      total += std::stoull(line.substr(6));
      counting = false;
    }
  }
  return total;
}

class FallbackNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (run_command({"tc", "-V"}).exit_code != 0) GTEST_SKIP() << "tc (iproute2) is not installed";
    lan_.emplace(kPrefix, kMarkerDevice);
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

  void open_datapath(const DatapathConfig& c) {
    auto opened = open_pcap_datapath(c);
    if (!opened.ok() && opened.message().find("Operation not supported") != std::string::npos) {
      GTEST_SKIP() << "the kernel lacks a tc feature the fallback needs: " << opened.message();
    }
    ASSERT_TRUE(opened.ok()) << opened.message();
    datapath_ = std::move(*opened);
  }
  void open_datapath() { open_datapath(config()); }

  // The counters once the capture has counted everything sent so far.
  // Packets reach them through the capture buffer (up to the pcap timeout
  // later, and later still on a loaded machine), in order: an echo from the
  // marker device to the router, sent after all of it, is counted after all
  // of it. So wait for the marker's counts, not for a guessed time.
  DeviceCounters counters_of(const IpAddress& address) {
    ++markers_;
    EXPECT_EQ(run_in(lan_->device_ns(kMarkerDevice), test::ping_until_answered(1, "10.10.0.1")).exit_code, 0);
    const IpAddress marker = ip(VirtualLan::device_ipv4(kMarkerDevice));
    std::vector<DeviceCounters> all;
    const bool counted = test::wait_until(
        [&] {
          auto read = datapath_->read_counters();
          if (!read.ok()) return false;
          all = std::move(*read);
          for (const auto& c : all) {
            if (c.address == marker) return c.up_packets >= markers_ && c.down_packets >= markers_;
          }
          return false;
        },
        test::kPatience, std::chrono::milliseconds(20));
    EXPECT_TRUE(counted) << "the capture never counted marker echo " << markers_;
    for (const auto& c : all) {
      if (c.address == address) return c;
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
  uint64_t markers_ = 0;  // marker echoes sent by counters_of()
};

TEST_F(FallbackNetTest, PcapCountsMatchIperfBytes) {
  open_datapath();
  start_iperf_servers({5201});
  const IpAddress dev1 = ip(VirtualLan::device_ipv4(1));
  run_in(lan_->device_ns(1), test::ping_until_answered(1, VirtualLan::kInetIpv4));  // warm ARP

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
  std::printf(
      "pcap payload estimate / iperf3 bytes: upload %.0f/%llu = %.4f, download %.0f/%llu = %.4f "
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
  auto ping =
      run_in(lan_->device_ns(1), {"ping", "-q", "-c", "50", "-i", "0.005", "-s", "1000", VirtualLan::kInetIpv4});
  ASSERT_EQ(ping.exit_code, 0) << ping.output;
  auto ping_after = counters_of(dev1);
  EXPECT_EQ(ping_after.up_packets - ping_before.up_packets, 50u);
  EXPECT_EQ(ping_after.up_bytes - ping_before.up_bytes, 50u * (14 + 20 + 8 + 1000));
  EXPECT_EQ(ping_after.down_packets - ping_before.down_packets, 50u);
  EXPECT_EQ(ping_after.down_bytes - ping_before.down_bytes, 50u * (14 + 20 + 8 + 1000));

  // IPv6 is counted under the device's IPv6 address.
  const IpAddress dev1v6 = ip(VirtualLan::device_ipv6(1));
  run_in(lan_->device_ns(1), test::ping_until_answered(1, VirtualLan::kInetIpv6, {"-6"}));
  auto v6_before = counters_of(dev1v6);
  ASSERT_EQ(
      run_in(lan_->device_ns(1), {"ping", "-6", "-q", "-c", "20", "-i", "0.01", "-s", "800", VirtualLan::kInetIpv6})
          .exit_code,
      0);
  auto v6_after = counters_of(dev1v6);
  EXPECT_EQ(v6_after.up_packets - v6_before.up_packets, 20u);
  EXPECT_EQ(v6_after.up_bytes - v6_before.up_bytes, 20u * (14 + 40 + 8 + 800));
  EXPECT_EQ(status.backend, Backend::Pcap);
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

TEST_F(FallbackNetTest, BlockedDropsEveryPortAndALimitedDevicesPriorityPortIsHeldToItsLimit) {
  DatapathConfig with_unlimited = config();
  with_unlimited.unlimited_ports = {{6, 8443}};
  open_datapath(with_unlimited);
  start_iperf_servers({5201, 443, 8443});
  const IpAddress dev2 = ip(VirtualLan::device_ipv4(2));
  const IpAddress dev2v6 = ip(VirtualLan::device_ipv6(2));
  const IpAddress dev3 = ip(VirtualLan::device_ipv4(3));
  const IpAddress dev3v6 = ip(VirtualLan::device_ipv6(3));
  ASSERT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(1, VirtualLan::kInetIpv4)).exit_code, 0);
  constexpr uint64_t kLimit = 2'000'000;
  ASSERT_TRUE(datapath_
                  ->apply_policies({limited(dev2, Priority::Blocked, 0), limited(dev2v6, Priority::Blocked, 0),
                                    limited(dev3, Priority::Low, kLimit), limited(dev3v6, Priority::Low, kLimit)})
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
  auto ping6 =
      run_in(lan_->device_ns(2), {"ping", "-6", "-q", "-c", "3", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv6});
  EXPECT_NE(ping6.exit_code, 0);
  auto router_ping = run_in(lan_->device_ns(2), {"ping", "-q", "-c", "2", "-W", "1", "10.10.0.1"});
  EXPECT_NE(router_ping.exit_code, 0) << "Blocked must stop traffic to the router itself too";
  auto tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 5201, 1, false, {}, 3000);  // must not connect
  EXPECT_FALSE(tcp.ok) << "a Blocked device connected to iperf3";
  auto priority_tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 443, 1, false, {}, 3000);
  EXPECT_FALSE(priority_tcp.ok) << "Blocked must drop priority port 443 too";
  auto unlimited_tcp = test::run_iperf3(lan_->device_ns(2), VirtualLan::kInetIpv4, 8443, 1, false, {}, 3000);
  EXPECT_FALSE(unlimited_tcp.ok) << "Blocked must drop unlimited port 8443 too";
  auto probe = run_in(lan_->inet_ns(), {"nft", "list", "table", "netdev", "bwfb_probe"});
  size_t zeros = 0;
  for (size_t at = probe.output.find("counter packets 0 "); at != std::string::npos;
       at = probe.output.find("counter packets 0 ", at + 1)) {
    ++zeros;
  }
  EXPECT_EQ(zeros, 2u) << "packets of a Blocked device reached the internet: " << probe.output;
  EXPECT_GE(counters_of(dev2).blocked_drops, 5u);

  // dev3 is held to 2 Mbit/s on every port but the operator's unlimited
  // 8443: priority port 443 included (all in its priority child: the
  // download's data never touches the bulk child).
  auto limited_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 5201, 3, true);
  ASSERT_TRUE(limited_run.ok) << limited_run.error;
  const uint64_t priority_before = class_bytes("lan0", "4");
  const uint64_t bulk_before = class_bytes("lan0", "8");
  const auto counted_before = counters_of(dev3);
  auto priority_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 443, 3, true);
  ASSERT_TRUE(priority_run.ok) << priority_run.error;
  const uint64_t priority_sent = class_bytes("lan0", "4") - priority_before;
  const uint64_t bulk_sent = class_bytes("lan0", "8") - bulk_before;
  const auto counted_after = counters_of(dev3);
  auto priority_v6_before = class_bytes("lan0", "4");
  auto priority_v6 = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv6, 443, 2, true);
  ASSERT_TRUE(priority_v6.ok) << priority_v6.error;
  const uint64_t priority_v6_sent = class_bytes("lan0", "4") - priority_v6_before;
  auto unlimited_run = test::run_iperf3(lan_->device_ns(3), VirtualLan::kInetIpv4, 8443, 2, true);
  ASSERT_TRUE(unlimited_run.ok) << unlimited_run.error;
  const auto counted_unlimited = counters_of(dev3);
  std::printf(
      "limit 2 Mbit/s: port 5201 goodput %.3f Mbit/s, priority port 443 %.3f Mbit/s (IPv6 %.3f; %llu bytes "
      "through the priority children, %llu through the bulk ones), unlimited port 8443 %.1f Mbit/s\n",
      limited_run.received_bits_per_second / 1e6, priority_run.received_bits_per_second / 1e6,
      priority_v6.received_bits_per_second / 1e6, static_cast<unsigned long long>(priority_sent),
      static_cast<unsigned long long>(bulk_sent), unlimited_run.received_bits_per_second / 1e6);
  RecordProperty("priority_443_goodput_bps", std::to_string(priority_run.received_bits_per_second));
  EXPECT_LT(limited_run.received_bits_per_second, 1.1 * kLimit);
  EXPECT_GT(limited_run.received_bits_per_second, 0.8 * kLimit);
  EXPECT_LT(priority_run.received_bits_per_second, 1.5 * kLimit) << "port 443 escaped the limit";
  EXPECT_GT(priority_run.received_bits_per_second, 0.5 * kLimit);
  EXPECT_LT(priority_v6.received_bits_per_second, 1.5 * kLimit) << "port 443 over IPv6 escaped the limit";
  EXPECT_GT(priority_sent, 3 * kLimit / 8 / 2) << "443 did not go through the priority child";
  EXPECT_LT(bulk_sent, priority_sent / 10) << "443 went through the bulk child";
  EXPECT_GT(priority_v6_sent, 2 * kLimit / 8 / 2) << "IPv6 443 did not go through the priority child";
  EXPECT_GT(unlimited_run.received_bits_per_second, 20.0 * kLimit) << "the operator's unlimited port was limited";
  EXPECT_GT(counted_after.down_priority_bytes - counted_before.down_priority_bytes, 500'000u);
  EXPECT_GT(counted_unlimited.down_unlimited_bytes, 1'000'000u);
  EXPECT_EQ(counted_after.down_unlimited_bytes, 0u);

  // Unblocked, dev2 passes again.
  ASSERT_TRUE(
      datapath_
          ->apply_policies({limited(dev2, Priority::Normal, 20'000'000), limited(dev2v6, Priority::Normal, 20'000'000)})
          .ok());
  EXPECT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(2, VirtualLan::kInetIpv4)).exit_code, 0);
  EXPECT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(2, VirtualLan::kInetIpv6, {"-6"})).exit_code, 0);
}

// Microseconds a TCP connect from `ns` to server:port takes (bash's
// /dev/tcp, timed with $EPOCHREALTIME so no process start is counted), or
// -1 when it fails.
long connect_micros(const std::string& ns, const std::string& server, int port) {
  const std::string script = "t0=$EPOCHREALTIME; exec 3<>/dev/tcp/" + server + "/" + std::to_string(port) +
                             " || exit 1; t1=$EPOCHREALTIME; exec 3>&-; echo $(( ${t1/[.,]/} - ${t0/[.,]/} ))";
  auto ran = run_in(ns, {"timeout", "5", "bash", "-c", script});
  if (ran.exit_code != 0) return -1;
  try {
    return std::stol(ran.output);
  } catch (const std::exception&) {
    return -1;
  }
}

long median(std::vector<long> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? -1 : v[v.size() / 2];
}

std::vector<long> connect_times(const std::string& ns, int port, int n) {
  std::vector<long> out;
  for (int i = 0; i < n; ++i) out.push_back(connect_micros(ns, VirtualLan::kInetIpv4, port));
  return out;
}

TEST_F(FallbackNetTest, APriorityPortOvertakesTheDevicesOwnBulk) {
  open_datapath();
  start_iperf_servers({5201, 5202, 443});
  const IpAddress dev3 = ip(VirtualLan::device_ipv4(3));
  ASSERT_EQ(run_in(lan_->device_ns(3), test::ping_until_answered(1, VirtualLan::kInetIpv4)).exit_code, 0);
  constexpr uint64_t kLimit = 2'000'000;
  ASSERT_TRUE(datapath_->apply_policies({limited(dev3, Priority::Low, kLimit)}).ok());
  const bool fq_codel =
      run_command({"tc", "qdisc", "show", "dev", "lan0"}).output.find("fq_codel") != std::string::npos;
  const long idle_us = median(connect_times(lan_->device_ns(3), 5202, 5));
  ASSERT_GT(idle_us, 0) << "connects to 5202 failed";
  // A download fills the device's bulk child; a new connection's SYN-ACK
  // then waits behind it on a bulk port when the leaf is a FIFO (~60 ms at
  // 2 Mbit/s), and goes first on a priority port (the priority child). With
  // fq_codel leaves a new flow goes first inside the bulk child too.
  // The download runs until the measurements are done (it is stopped at the
  // end of the test), and they start once a second's worth of the limit has
  // gone through the bulk children: the download fills its queue by then,
  // however slow the machine (was a 2 s sleep into a 10 s download).
  const uint64_t bulk_at_start = class_bytes("lan0", "8");
  BackgroundProcess download(lan_->device_ns(3),
                             {"iperf3", "-c", VirtualLan::kInetIpv4, "-p", "5201", "-R", "-t", "600"});
  ASSERT_TRUE(test::wait_until([&] { return class_bytes("lan0", "8") >= bulk_at_start + kLimit / 8; }, test::kPatience,
                               std::chrono::milliseconds(100)))
      << "the download did not start";
  std::vector<long> priority, bulk;
  for (int i = 0; i < 7; ++i) {
    priority.push_back(connect_micros(lan_->device_ns(3), VirtualLan::kInetIpv4, 443));
    bulk.push_back(connect_micros(lan_->device_ns(3), VirtualLan::kInetIpv4, 5202));
  }
  ASSERT_FALSE(download.exited()) << "the download ended before the measurements did";
  const long priority_us = median(priority);
  const long bulk_us = median(bulk);
  std::printf(
      "connect time (median of 7) with %s leaves: idle %.1f ms; under the device's own 2 Mbit/s download: "
      "priority port 443 %.1f ms, bulk port 5202 %.1f ms\n",
      fq_codel ? "fq_codel" : "bfifo", idle_us / 1e3, priority_us / 1e3, bulk_us / 1e3);
  RecordProperty("priority_connect_us", std::to_string(priority_us));
  RecordProperty("bulk_connect_us", std::to_string(bulk_us));
  ASSERT_GT(priority_us, 0) << "connects to 443 failed";
  ASSERT_GT(bulk_us, 0) << "connects to 5202 failed";
  EXPECT_LT(priority_us, idle_us + 10'000) << "the priority port waited behind the device's bulk";
  if (fq_codel) {
    EXPECT_LT(bulk_us, idle_us + 10'000) << "a new flow waited behind the bulk child's download";
  } else {
    EXPECT_GT(bulk_us, idle_us + 15'000) << "the download did not queue in the bulk child's FIFO";
  }
}

TEST_F(FallbackNetTest, StopRemovesQdiscsFiltersAndTheIfbDevice) {
  auto before = run_command({"tc", "qdisc", "show", "dev", "lan0"});
  open_datapath();
  ASSERT_TRUE(datapath_
                  ->apply_policies({limited(ip(VirtualLan::device_ipv4(1)), Priority::Normal, 20'000'000),
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
  EXPECT_EQ(run_in(lan_->device_ns(2), test::ping_until_answered(1, VirtualLan::kInetIpv4)).exit_code, 0)
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
