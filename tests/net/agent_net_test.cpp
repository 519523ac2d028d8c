// The whole agent (`bwalloc run`) on the virtual LAN with real traffic: a
// heavy iperf3 device goes to Low with its rate in the kernel's policy map,
// a light one goes to High, a spike raises an ALERT, the history lands in
// the SQLite file; `bwalloc status` names what it attached and `bwalloc
// detach` cleans up after it.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/common/ip_address.h"
#include "bwalloc_maps.h"
#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using test::BackgroundProcess;
using test::read_text;
using test::run_command;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwt-ag-";
const std::string kWork = "/tmp/bwt-ag";
const std::string kPinDir = "/sys/fs/bpf/bwt-ag";

std::vector<std::string> agent_settings() {
  return {"--netns", std::string(kPrefix) + "rtr",
          "--set",   "datapath.pin_dir=\"" + kPinDir + "\"",
          "--set",   "datapath.state_dir=\"" + kWork + "/state\"",
          "--set",   "store.path=\"" + kWork + "/bwalloc.db\"",
          "--set",   "http.port=0",
          "--set",   "http.token_file=\"" + kWork + "/token\"",
          "--set",   "discovery.reverse_dns=false"};
}

std::optional<int> dashboard_port(const std::string& log_path) { return test::announced_api_port(read_text(log_path)); }

boost::json::object get_json(int port, const std::string& path) {
  // --max-time only turns a hung agent into a failure.
  auto out = run_command({"curl", "-s", "--max-time", "60", "http://127.0.0.1:" + std::to_string(port) + path});
  boost::system::error_code ec;
  auto v = boost::json::parse(out.output, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::string priority_of(int port, const std::string& ip) {
  auto devices = get_json(port, "/api/devices");
  if (!devices.contains("devices")) return "";
  for (const auto& d : devices["devices"].as_array()) {
    if (d.as_object().at("ip").as_string() == ip) return std::string(d.as_object().at("priority_name").as_string());
  }
  return "";
}

// The agent's own count of finished ticks (/health), -1 when it does not answer.
int64_t ticks_of(int port) {
  auto health = get_json(port, "/health");
  return health.contains("ticks") ? health["ticks"].to_number<int64_t>() : -1;
}

int64_t sql_count(const std::string& db_path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_busy_timeout(db, 60'000);  // the agent writes meanwhile: wait out its locks
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK && sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

class AgentNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (run_command({"sh", "-c", "command -v curl"}).exit_code != 0) GTEST_SKIP() << "curl is not installed";
    std::filesystem::remove_all(kWork);
    std::filesystem::remove_all(kPinDir);
    std::filesystem::create_directories(kWork);
    lan_.emplace(kPrefix, 3);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
  }
  void TearDown() override {
    agent_.reset();  // SIGTERM, then reaped
    if (lan_) {
      std::vector<std::string> detach = {BWALLOC_BINARY, "detach"};
      auto settings = agent_settings();
      detach.insert(detach.end(), settings.begin(), settings.end());
      run_command(detach);
    }
    lan_.reset();
    std::filesystem::remove_all(kPinDir);
    std::filesystem::remove_all(kWork);
  }

  // Starts `bwalloc run` on the virtual LAN; its API port once it serves
  // (nullopt when it exited first, or after kPatience: a hang).
  std::optional<int> start_agent() {
    std::vector<std::string> run = {BWALLOC_BINARY, "run"};
    auto settings = agent_settings();
    run.insert(run.end(), settings.begin(), settings.end());
    agent_ = std::make_unique<BackgroundProcess>("", run, log_);
    std::optional<int> port;
    test::wait_until([&] {
      port = dashboard_port(log_);
      return port || agent_->exited();
    });
    return port;
  }

  const std::string log_ = kWork + "/agent.log";
  std::optional<VirtualLan> lan_;
  std::unique_ptr<BackgroundProcess> agent_;
};

TEST_F(AgentNetTest, HeavyGoesLowLightGoesHighSpikeAlertsHistoryIsKept) {
  BackgroundProcess server(lan_->inet_ns(), {"iperf3", "-s", "-p", "5201"});
  BackgroundProcess server2(lan_->inet_ns(), {"iperf3", "-s", "-p", "5202"});
  ASSERT_TRUE(test::wait_until_listening(lan_->inet_ns(), {5201, 5202})) << "iperf3 servers did not start";
  const std::optional<int> port = start_agent();
  ASSERT_TRUE(port) << "the agent did not start:\n" << read_text(log_);

  // dev3 streams steadily at 400 kbit/s (Normal), then bursts: a spike.
  std::thread spiky([&] {
    run_in(lan_->device_ns(3), {"iperf3", "-c", VirtualLan::kInetIpv4, "-p", "5202", "-R", "-b", "400k", "-t", "8"});
    run_in(lan_->device_ns(3), {"iperf3", "-c", VirtualLan::kInetIpv4, "-p", "5202", "-R", "-t", "3"});
  });
  // dev2 is light: small pings.
  BackgroundProcess light(lan_->device_ns(2), {"ping", "-i", "0.5", "-s", "100", VirtualLan::kInetIpv4});
  // dev1 downloads as fast as it can for 12 s.
  test::IperfResult heavy;
  std::atomic<bool> heavy_done{false};
  std::thread heavy_download([&] {
    heavy = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 12, true);
    heavy_done = true;
  });

  // While dev1 is still downloading: it must reach Low (after the 3-tick
  // hysteresis), with the Low rate in the kernel's policy map. The bound is
  // the download itself (12 s of it, about a dozen ticks), not a guess.
  std::string dev1_priority;
  test::wait_until(
      [&] {
        const bool downloading = !heavy_done;
        dev1_priority = priority_of(*port, VirtualLan::device_ipv4(1));
        return dev1_priority == "Low" || !downloading;
      },
      test::kPatience, std::chrono::milliseconds(100));
  EXPECT_EQ(dev1_priority, "Low") << read_text(log_);
  int policy_fd = bpf_obj_get((kPinDir + "/bwa_policy").c_str());
  ASSERT_GE(policy_fd, 0) << std::strerror(errno);
  bwa_addr key{};
  auto dev1 = IpAddress::parse(VirtualLan::device_ipv4(1)).value();
  std::memcpy(key.bytes, dev1.bytes().data(), 16);
  bwa_policy policy{};
  EXPECT_EQ(bpf_map_lookup_elem(policy_fd, &key, &policy), 0);
  close(policy_fd);
  EXPECT_EQ(policy.priority, BWA_PRIO_LOW);
  EXPECT_EQ(policy.rate_bytes_per_sec[BWA_DIR_DOWN], 625'000u) << "5 Mbit/s = 625,000 bytes/s";
  EXPECT_EQ(policy.rate_bytes_per_sec[BWA_DIR_UP], 625'000u);
  EXPECT_NE(policy.slot, 0u);
  EXPECT_TRUE(test::wait_until([&] { return priority_of(*port, VirtualLan::device_ipv4(2)) == "High"; }))
      << "the light device is " << priority_of(*port, VirtualLan::device_ipv4(2));

  heavy_download.join();
  spiky.join();
  ASSERT_TRUE(heavy.ok) << heavy.error;
  // Two ticks that started after the traffic ended: the history has its last bytes.
  const int64_t ticks_after_traffic = ticks_of(*port);
  ASSERT_TRUE(test::wait_until([&] { return ticks_of(*port) >= ticks_after_traffic + 2; }))
      << "the agent stopped ticking:\n"
      << read_text(log_);

  const std::string db = kWork + "/bwalloc.db";
  EXPECT_GE(
      sql_count(db, "SELECT COUNT(*) FROM events WHERE level = 'ALERT' AND ip = '" + VirtualLan::device_ipv4(3) + "'"),
      1)
      << "no spike ALERT for the bursting device; events: " << get_json(*port, "/api/events");
  EXPECT_GE(sql_count(db, "SELECT COUNT(*) FROM events WHERE level = 'AUTO' AND ip = '" + VirtualLan::device_ipv4(1) +
                              "' AND message LIKE '%-> Low%'"),
            1);
  EXPECT_GE(sql_count(db, "SELECT COUNT(*) FROM usage_raw WHERE ip = '" + VirtualLan::device_ipv4(1) + "'"), 5);
  // Every byte the device received is in the history (frames carry headers too).
  int64_t recorded =
      sql_count(db, "SELECT SUM(rx_bytes) FROM usage_raw WHERE ip = '" + VirtualLan::device_ipv4(1) + "'");
  EXPECT_GE(recorded, static_cast<int64_t>(heavy.received_bytes));
  EXPECT_LE(recorded, static_cast<int64_t>(heavy.received_bytes) * 11 / 10);
}

// `bwalloc status` names what the running agent attached; `bwalloc detach`
// refuses while it runs, removes its pins once it stopped, and may run twice.
TEST_F(AgentNetTest, StatusNamesTheAttachedProgramsAndDetachCleansUpAfterTheAgent) {
  const std::optional<int> port = start_agent();
  ASSERT_TRUE(port) << "the agent did not start:\n" << read_text(log_);

  auto status =
      run_command({BWALLOC_BINARY, "status", "--netns", std::string(kPrefix) + "rtr", "--set",
                   "datapath.pin_dir=\"" + kPinDir + "\"", "--set", "datapath.state_dir=\"" + kWork + "/state\""});
  EXPECT_EQ(status.exit_code, 0) << status.output;
  EXPECT_NE(status.output.find("agent: running"), std::string::npos) << status.output;
  // The router's LAN is a veth, where "auto" counts upload with tc ingress.
  EXPECT_NE(status.output.find("bwa_tc_ingress"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("bwa_tc_wan_egress"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("bwa_counters"), std::string::npos) << status.output;
  EXPECT_NE(status.output.find("pacing:"), std::string::npos) << status.output;

  std::vector<std::string> detach = {BWALLOC_BINARY, "detach"};
  auto settings = agent_settings();
  detach.insert(detach.end(), settings.begin(), settings.end());
  auto refused = run_command(detach);
  EXPECT_NE(refused.exit_code, 0) << "detach must refuse while the agent runs";
  agent_.reset();
  auto detached = run_command(detach);
  EXPECT_EQ(detached.exit_code, 0) << detached.output;
  EXPECT_FALSE(std::filesystem::exists(kPinDir));
  EXPECT_EQ(run_command(detach).exit_code, 0) << "a second detach succeeds";
}

}  // namespace
}  // namespace bwalloc
