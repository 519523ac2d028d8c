// Capacity (issue 7, item 4): the real `bwalloc run` with the smallest map
// build (datapath.max_devices = 16) on a LAN of 17 devices that all send
// traffic, so the agent wants a policy for each. The 17th device does not fit
// the policy map: /health and /metrics report one device over capacity, it
// keeps forwarding and every packet of every device is still counted, and a
// block set before the map filled keeps dropping everything. Blocking the
// over-capacity device itself takes effect: it displaces a device that is
// only limited, which is then the one reported over capacity.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "bwalloc_maps.h"
#include "tests/net/reliability_support.h"

namespace bwalloc {
namespace {

using namespace std::chrono;
using test::AgentSandbox;
using test::SpawnedAgent;
using test::VirtualLan;

constexpr int kMapSize = 16;            // the smallest datapath.max_devices
constexpr int kDevices = kMapSize + 1;  // one more than the policy map holds
constexpr int kBlockedPingSize = 321;   // ip length 349: only the blocked device sends it
constexpr int kPings = 25;              // per device in the counted round (5 s at 5 Hz)

struct PingResult {
  int transmitted = -1;
  int received = -1;
  std::string output;
};

PingResult parse_ping(const test::CommandResult& out) {
  PingResult r;
  r.output = out.output;
  std::smatch m;
  static const std::regex summary("([0-9]+) packets transmitted, ([0-9]+) (packets )?received");
  if (std::regex_search(out.output, m, summary)) {
    r.transmitted = std::stoi(m[1]);
    r.received = std::stoi(m[2]);
  }
  return r;
}

class ReliabilityCapacity : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (test::run_command({"sh", "-c", "command -v curl"}).exit_code != 0) GTEST_SKIP() << "curl is not installed";
    remove_leftovers();
    std::filesystem::create_directories(box_.work);
    lan_.emplace(box_.prefix, kDevices);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
  }
  void TearDown() override {
    agent_.reset();
    remove_leftovers();
  }

  // What a killed earlier run (or this one) left: programs and qdiscs (detach
  // with our own pin and state dirs), namespaces, pins, state and files.
  void remove_leftovers() {
    std::vector<std::string> detach = {BWALLOC_BINARY, "detach"};
    auto options = box_.options();
    detach.insert(detach.end(), options.begin(), options.end());
    if (test::run_command({"ip", "netns", "pids", box_.prefix + "rtr"}).exit_code == 0) test::run_command(detach);
    lan_.reset();
    test::run_command({test::vlan_script(), "down", "--prefix", box_.prefix});
    box_.clear();
  }

  std::string dev(int n) const { return VirtualLan::device_ipv4(n); }

  // Pings the internet side from each listed device at once, `count` echoes
  // at 5 Hz. The `blocked` ones must go unanswered: a short wait for their
  // replies, and dev1 sends the size the echo probe counts. The others must
  // all be answered: ping waits for every reply (up to kPatience).
  std::map<int, PingResult> ping_all(const std::vector<int>& devices, int count, const std::set<int>& blocked = {}) {
    std::map<int, PingResult> results;
    std::vector<std::thread> threads;
    std::vector<PingResult> out(devices.size());
    for (size_t i = 0; i < devices.size(); ++i) {
      threads.emplace_back([&, i] {
        int n = devices[i];
        std::vector<std::string> argv;
        if (blocked.count(n)) {
          argv = {"ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.2", "-W", "1"};
          if (n == 1) argv.insert(argv.end(), {"-s", std::to_string(kBlockedPingSize)});
          argv.push_back(VirtualLan::kInetIpv4);
        } else {
          argv = test::ping_until_answered(count, VirtualLan::kInetIpv4, {"-n", "-q", "-i", "0.2"});
        }
        out[i] = parse_ping(test::run_in(lan_->device_ns(n), argv));
      });
    }
    for (auto& t : threads) t.join();
    for (size_t i = 0; i < devices.size(); ++i) results[devices[i]] = out[i];
    return results;
  }

  // Polls until `ok` holds (true) or kPatience passes (false: a hang).
  static bool wait_until(const std::function<bool()>& ok) {
    return test::wait_until(ok, test::kPatience, milliseconds(100));
  }

  // The agent's own count of finished ticks (/health), -1 when it does not answer.
  int64_t ticks() {
    auto health = test::get_json(*port_, "/health");
    return health.contains("ticks") ? health["ticks"].to_number<int64_t>() : -1;
  }

  int64_t health_over_capacity() {
    auto health = test::get_json(*port_, "/health");
    if (!health.contains("devices_over_capacity")) return -1;
    return health["devices_over_capacity"].to_number<int64_t>();
  }

  std::optional<int64_t> metrics_over_capacity() {
    auto out = test::run_command(
        {"curl", "-s", "--max-time", test::kCurlMaxTime, "http://127.0.0.1:" + std::to_string(*port_) + "/metrics"});
    std::smatch m;
    static const std::regex series("\\nbwalloc_datapath_devices_over_capacity ([0-9]+)\\n");
    if (!std::regex_search(out.output, m, series)) return std::nullopt;
    return std::stoll(m[1]);
  }

  std::string devices_text() {
    std::string text;
    auto devices = test::get_json(*port_, "/api/devices");
    if (!devices.contains("devices")) return "(no /api/devices)";
    for (const auto& d : devices["devices"].as_array()) {
      const auto& o = d.as_object();
      auto policy = test::pinned_policy(box_.pin_dir, std::string(o.at("ip").as_string()));
      text += std::string(o.at("ip").as_string()) + " " + std::string(o.at("priority_name").as_string()) +
              (policy ? " (in the policy map)" : " (no policy)") + "\n";
    }
    return text;
  }

  // Devices 2..16 whose policy is missing from the pinned map.
  std::vector<int> limited_without_policy() {
    std::vector<int> missing;
    for (int n = 2; n < kDevices; ++n) {
      if (!test::pinned_policy(box_.pin_dir, dev(n))) missing.push_back(n);
    }
    return missing;
  }

  AgentSandbox box_{"bwcp", "/tmp/bwcp-work", "/sys/fs/bpf/bwcp", "/run/bwcp"};
  std::optional<VirtualLan> lan_;
  std::unique_ptr<SpawnedAgent> agent_;
  std::optional<int> port_;
};

TEST_F(ReliabilityCapacity, OneDeviceOverTheMapIsReportedStillForwardedAndCountedAndBlocksHold) {
  agent_ = std::make_unique<SpawnedAgent>(
      box_, box_.work + "/agent.log",
      std::vector<std::string>{"agent.backend=\"ebpf\"", "datapath.max_devices=" + std::to_string(kMapSize)});
  port_ = agent_->wait_for_port();
  ASSERT_TRUE(port_) << "the agent did not start:\n" << agent_->log();
  std::string token = test::read_text(box_.token_file());
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  ASSERT_FALSE(token.empty());
  auto health = test::get_json(*port_, "/health");
  ASSERT_TRUE(health.contains("maps")) << agent_->log();
  for (const auto& m : health["maps"].as_array()) {
    if (m.as_object().at("name").as_string() == "bwa_policy") {
      ASSERT_EQ(m.as_object().at("max_entries").to_number<int64_t>(), kMapSize) << "the policy map was not resized";
    }
  }

  // Device 1 is blocked before the map fills.
  ASSERT_EQ(test::post_json(*port_, "/api/block", "{\"ip\":\"" + dev(1) + "\",\"reason\":\"capacity test\"}", token),
            200);
  auto blocked = test::pinned_policy(box_.pin_dir, dev(1));
  ASSERT_TRUE(blocked && (blocked->flags & BWA_POLICY_BLOCKED)) << "dev1's block is not in the policy map";
  ASSERT_TRUE(test::install_echo_probe(lan_->inet_ns(), "eth0", 20 + 8 + kBlockedPingSize, box_.work + "/probe.nft"));

  // Devices 2..16 appear: with dev1 that is exactly what the map holds.
  std::vector<int> first_fifteen;
  for (int n = 2; n < kDevices; ++n) first_fifteen.push_back(n);
  auto warmup = ping_all(first_fifteen, 3);
  for (auto& [n, r] : warmup) ASSERT_EQ(r.received, 3) << "dev" << n << " could not ping:\n" << r.output;
  ASSERT_TRUE(wait_until([&] {
    return test::pinned_map_entries(box_.pin_dir + "/bwa_policy", sizeof(bwa_addr)) ==
           std::optional<uint32_t>(kMapSize);
  })) << "the agent did not give 16 devices a policy:\n"
      << devices_text() << agent_->log();
  EXPECT_EQ(health_over_capacity(), 0) << "16 devices fit a 16-entry map:\n" << devices_text();

  // Every device pings at once; device 17 does not fit any more.
  std::vector<int> all;
  for (int n = 1; n <= kDevices; ++n) all.push_back(n);
  auto before = test::pinned_counters(box_.pin_dir, dev(1));
  ASSERT_TRUE(before);
  auto counted = ping_all(all, kPings, {1});
  ASSERT_TRUE(wait_until([&] { return health_over_capacity() == 1; }))
      << "/health devices_over_capacity = " << health_over_capacity() << ", expected 1:\n"
      << devices_text() << agent_->log();
  EXPECT_EQ(metrics_over_capacity(), std::optional<int64_t>(1)) << "/metrics lacks the over-capacity series at 1";
  EXPECT_FALSE(test::pinned_policy(box_.pin_dir, dev(kDevices))) << "dev17 has a policy in a full map";
  EXPECT_EQ(test::pinned_map_entries(box_.pin_dir + "/bwa_policy", sizeof(bwa_addr)),
            std::optional<uint32_t>(kMapSize));
  EXPECT_NE(agent_->log().find("policy map full"), std::string::npos) << "the log does not say the map is full";

  // Forwarding never stopped, and the kernel counted every echo of every
  // device (none lost its counter entry to the extra device).
  for (int n = 2; n <= kDevices; ++n) {
    const PingResult& r = counted[n];
    EXPECT_EQ(r.received, kPings) << "dev" << n << " lost pings:\n" << r.output;
    auto c = test::pinned_counters(box_.pin_dir, dev(n));
    ASSERT_TRUE(c);
    const uint64_t sent = kPings + (n < kDevices ? 3 : 0);
    EXPECT_GE(c->up_packets, sent) << "dev" << n << "'s upload was not all counted";
    EXPECT_GE(c->down_packets, sent) << "dev" << n << "'s download was not all counted";
  }
  auto over = test::api_device(*port_, dev(kDevices));
  ASSERT_TRUE(over.contains("up_bytes_total")) << "dev17 is missing from /api/devices:\n" << devices_text();
  ASSERT_TRUE(wait_until([&] {
    auto d = test::api_device(*port_, dev(kDevices));
    return d.contains("up_bytes_total") && d["up_bytes_total"].to_number<uint64_t>() >= uint64_t{kPings} * 98;
  })) << "dev17's counters in /api/devices: "
      << boost::json::serialize(test::api_device(*port_, dev(kDevices)));

  // The block set before the map filled still drops everything.
  EXPECT_EQ(counted[1].transmitted, kPings) << counted[1].output;
  EXPECT_EQ(counted[1].received, 0) << "blocked dev1 got replies:\n" << counted[1].output;
  auto reached = test::echo_probe_packets(lan_->inet_ns());
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 0u) << "blocked dev1's packets reached the internet side";
  auto after = test::pinned_counters(box_.pin_dir, dev(1));
  ASSERT_TRUE(after);
  EXPECT_GE(after->blocked_drops - before->blocked_drops, uint64_t{kPings}) << "dev1's drops were not counted";

  // Blocking the over-capacity device takes effect: it displaces one device
  // that is only limited, and that one is now over capacity.
  ASSERT_EQ(test::post_json(*port_, "/api/block", "{\"ip\":\"" + dev(kDevices) + "\"}", token), 200);
  auto now_blocked = test::pinned_policy(box_.pin_dir, dev(kDevices));
  ASSERT_TRUE(now_blocked && (now_blocked->flags & BWA_POLICY_BLOCKED))
      << "blocking the over-capacity dev17 did not reach the policy map:\n"
      << devices_text() << agent_->log();
  auto displaced = limited_without_policy();
  ASSERT_EQ(displaced.size(), 1u) << "expected exactly one limited device displaced:\n" << devices_text();
  EXPECT_TRUE(test::pinned_policy(box_.pin_dir, dev(1))) << "dev1's block was displaced";
  EXPECT_TRUE(wait_until([&] { return health_over_capacity() == 1; }))
      << "/health devices_over_capacity = " << health_over_capacity() << " after the displacement";
  auto last = ping_all({1, displaced[0], kDevices}, 5, {1, kDevices});
  EXPECT_EQ(last[kDevices].transmitted, 5) << last[kDevices].output;
  EXPECT_EQ(last[kDevices].received, 0) << "blocked dev17 got replies:\n" << last[kDevices].output;
  EXPECT_EQ(last[displaced[0]].received, 5) << "the displaced dev" << displaced[0] << " stopped forwarding:\n"
                                            << last[displaced[0]].output;
  EXPECT_EQ(last[1].received, 0) << "dev1's block stopped holding:\n" << last[1].output;
  reached = test::echo_probe_packets(lan_->inet_ns());
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 0u);
  // The displaced device is retried on every tick and stays reported: two
  // ticks later (counted by the agent, not by the clock) it still is.
  const int64_t ticks_now = ticks();
  ASSERT_TRUE(wait_until([&] { return ticks() >= ticks_now + 2; })) << "the agent stopped ticking:\n" << agent_->log();
  EXPECT_EQ(health_over_capacity(), 1);
  EXPECT_EQ(metrics_over_capacity(), std::optional<int64_t>(1));
  EXPECT_FALSE(test::pinned_policy(box_.pin_dir, dev(displaced[0])));
  std::printf("map of %d, %d devices: over capacity 1; dev%d displaced by blocking dev%d\n", kMapSize, kDevices,
              displaced[0], kDevices);
}

}  // namespace
}  // namespace bwalloc
