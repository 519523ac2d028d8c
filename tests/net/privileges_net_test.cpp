// The real agent (`bwalloc run`) on the virtual LAN drops everything but
// CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW once it has started: read from the
// kernel (/proc/<pid>/status and every thread's status) and from /health,
// and it still works after the drop: ticks go on, counters move, a block
// written through the API reaches the kernel's policy map and holds, the
// unblock lifts it, and the gateway prober's raw ICMP socket still answers.
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/runtime/privileges.h"
#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using test::BackgroundProcess;
using test::read_text;
using test::run_command;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwskp-";
const std::string kWork = "/tmp/bwsk-priv";
const std::string kStateDir = "/run/bwsk-priv";
const std::string kPinDir = "/sys/fs/bpf/bwsk-priv";
constexpr CapabilityMask kKept = (1ull << CAP_BPF) | (1ull << CAP_NET_ADMIN) | (1ull << CAP_NET_RAW);

std::vector<std::string> agent_settings() {
  return {"--netns", std::string(kPrefix) + "rtr",
          "--set",   "datapath.pin_dir=\"" + kPinDir + "\"",
          "--set",   "datapath.state_dir=\"" + kStateDir + "\"",
          "--set",   "store.path=\"" + kWork + "/bwalloc.db\"",
          "--set",   "http.port=0",
          "--set",   "http.token_file=\"" + kWork + "/token\"",
          "--set",   "discovery.reverse_dns=false"};
}

std::optional<int> dashboard_port(const std::string& log_path) { return test::announced_api_port(read_text(log_path)); }

boost::json::object http_json(int port, const std::string& path, const std::string& method = "GET",
                              const std::string& body = "", const std::string& token = "") {
  std::vector<std::string> argv = {"curl", "-s", "--max-time", "60", "-X", method};  // a hang detector only
  if (!token.empty()) {
    argv.insert(argv.end(), {"-H", "Authorization: Bearer " + token, "-H", "X-Requested-With: bwalloc"});
  }
  if (!body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data", body});
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  auto out = run_command(argv);
  boost::system::error_code ec;
  auto v = boost::json::parse(out.output, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::vector<std::string> strings(const boost::json::value& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& s : v.as_array()) out.emplace_back(s.as_string());
  return out;
}

uint64_t down_bytes_of(int port, const std::string& ip) {
  auto devices = http_json(port, "/api/devices");
  if (!devices.contains("devices")) return 0;
  for (const auto& d : devices["devices"].as_array()) {
    const auto& o = d.as_object();
    if (o.at("ip").as_string() == ip) return o.at("down_bytes_total").to_number<uint64_t>();
  }
  return 0;
}

uint64_t ticks_of(int port) {
  auto health = http_json(port, "/health");
  return health.contains("ticks") ? health["ticks"].to_number<uint64_t>() : 0;
}

// The device reaches the internet side: both echoes answered (ping waits
// for them up to kPatience).
bool pings(const VirtualLan& lan, int device) {
  return run_in(lan.device_ns(device), test::ping_until_answered(2, VirtualLan::kInetIpv4, {"-i", "0.2"})).exit_code ==
         0;
}

// The device is cut off: no echo answered within a second of the last one
// (waiting longer could not turn a block into a pass).
bool cut_off(const VirtualLan& lan, int device) {
  return run_in(lan.device_ns(device), {"ping", "-c", "2", "-i", "0.2", "-W", "1", VirtualLan::kInetIpv4}).exit_code !=
         0;
}

class PrivilegesNetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (run_command({"sh", "-c", "command -v curl"}).exit_code != 0) GTEST_SKIP() << "curl is not installed";
    remove_leftovers();
    std::filesystem::create_directories(kWork);
    lan_.emplace(kPrefix, 2);
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
    remove_leftovers();
  }
  static void remove_leftovers() {
    std::filesystem::remove_all(kPinDir);
    std::filesystem::remove_all(kStateDir);
    std::filesystem::remove_all(kWork);
  }

  std::optional<VirtualLan> lan_;
  std::unique_ptr<BackgroundProcess> agent_;
};

// `bwalloc run` (behind `wrapper`, if any) on the LAN; the API port once it
// has started and dropped its privileges (it logs the port after the drop);
// nullopt when it exited first (or hangs for kPatience).
std::optional<int> start_agent(std::unique_ptr<BackgroundProcess>& agent, std::vector<std::string> wrapper = {}) {
  std::vector<std::string> run = {BWALLOC_BINARY, "run"};
  auto settings = agent_settings();
  run.insert(run.end(), settings.begin(), settings.end());
  wrapper.insert(wrapper.end(), run.begin(), run.end());
  agent = std::make_unique<BackgroundProcess>("", wrapper, kWork + "/agent.log");
  std::optional<int> port;
  test::wait_until([&] {
    port = dashboard_port(kWork + "/agent.log");
    return port || agent->exited();
  });
  return port;
}

TEST_F(PrivilegesNetTest, AgentKeepsOnlyBpfNetAdminNetRawAndStillWorks) {
  const std::string log = kWork + "/agent.log";
  auto port = start_agent(agent_);
  ASSERT_TRUE(port) << "the agent did not start:\n" << read_text(log);
  EXPECT_NE(read_text(log).find("kept capabilities: cap_net_admin,cap_net_raw,cap_bpf"), std::string::npos)
      << read_text(log);

  // The kernel's view, for the process and for each of its threads.
  const std::string proc = "/proc/" + std::to_string(agent_->pid());
  auto process = parse_status_capabilities(read_text(proc + "/status"));
  ASSERT_TRUE(process) << process.message();
  EXPECT_EQ(process->effective, kKept) << capability_names(process->effective);
  EXPECT_EQ(process->permitted, kKept) << capability_names(process->permitted);
  EXPECT_EQ(process->bounding, kKept) << capability_names(process->bounding);
  EXPECT_EQ(process->inheritable, 0u) << capability_names(process->inheritable);
  EXPECT_EQ(process->ambient, 0u) << capability_names(process->ambient);
  EXPECT_TRUE(process->no_new_privs);
  size_t threads = 0;
  for (const auto& task : std::filesystem::directory_iterator(proc + "/task")) {
    auto sets = parse_status_capabilities(read_text(task.path().string() + "/status"));
    if (!sets) continue;  // the thread ended meanwhile
    ++threads;
    EXPECT_EQ(sets->effective, kKept) << "thread " << task.path().filename() << ": "
                                      << capability_names(sets->effective);
    EXPECT_EQ(sets->permitted, kKept) << "thread " << task.path().filename();
    EXPECT_EQ(sets->bounding, kKept) << "thread " << task.path().filename();
    EXPECT_TRUE(sets->no_new_privs) << "thread " << task.path().filename();
  }
  EXPECT_GE(threads, 4u) << "the tick, HTTP and prober threads must be among them";

  // The agent's own report.
  auto health = http_json(*port, "/health");
  ASSERT_TRUE(health.contains("capabilities")) << boost::json::serialize(health);
  auto& caps = health["capabilities"].as_object();
  EXPECT_TRUE(caps["restricted"].as_bool());
  const std::vector<std::string> expected = {"cap_net_admin", "cap_net_raw", "cap_bpf"};
  EXPECT_EQ(strings(caps["effective"]), expected);
  EXPECT_EQ(strings(caps["permitted"]), expected);
  EXPECT_EQ(strings(caps["bounding"]), expected);
  EXPECT_TRUE(caps["no_new_privs"].as_bool());
  EXPECT_EQ(caps["note"].as_string(), "") << "nothing should be left undone as root";

  // Still ticking and counting after the drop.
  uint64_t ticks_before = ticks_of(*port);
  ASSERT_TRUE(pings(*lan_, 1)) << "dev1 cannot reach the internet side";
  uint64_t counted_before = down_bytes_of(*port, VirtualLan::device_ipv4(1));
  BackgroundProcess server(lan_->inet_ns(), {"iperf3", "-s", "-p", "5201"});
  ASSERT_TRUE(test::wait_until_listening(lan_->inet_ns(), {5201})) << "iperf3 server did not start";
  auto transfer = test::run_iperf3(lan_->device_ns(1), VirtualLan::kInetIpv4, 5201, 2, true, {"-b", "20M"});
  ASSERT_TRUE(transfer.ok) << transfer.error;
  uint64_t counted_after = counted_before;
  test::wait_until(
      [&] {
        counted_after = down_bytes_of(*port, VirtualLan::device_ipv4(1));
        return counted_after >= counted_before + transfer.received_bytes;
      },
      test::kPatience, std::chrono::milliseconds(100));
  EXPECT_GE(counted_after, counted_before + transfer.received_bytes) << "the counters stopped after the drop";
  EXPECT_TRUE(test::wait_until([&] { return ticks_of(*port) > ticks_before; })) << "the ticks stopped after the drop";

  // Policy writes reach the kernel: a block holds, the unblock lifts it.
  const std::string token = read_text(kWork + "/token").substr(0, 64);
  auto blocked = http_json(*port, "/api/block", "POST", "{\"ip\":\"" + VirtualLan::device_ipv4(1) + "\"}", token);
  ASSERT_TRUE(blocked.contains("ok") && blocked["ok"].as_bool()) << boost::json::serialize(blocked);
  EXPECT_TRUE(cut_off(*lan_, 1)) << "a blocked device got through: the policy write did not reach the kernel";
  EXPECT_TRUE(pings(*lan_, 2)) << "the block must not touch other devices";
  auto unblocked = http_json(*port, "/api/unblock", "POST", "{\"ip\":\"" + VirtualLan::device_ipv4(1) + "\"}", token);
  ASSERT_TRUE(unblocked.contains("ok") && unblocked["ok"].as_bool()) << boost::json::serialize(unblocked);
  EXPECT_TRUE(pings(*lan_, 1)) << "the unblock did not reach the kernel";
  auto priority = http_json(*port, "/api/devices/" + VirtualLan::device_ipv4(2) + "/priority", "POST",
                            "{\"priority\":\"Low\"}", token);
  EXPECT_TRUE(priority.contains("ok") && priority["ok"].as_bool()) << boost::json::serialize(priority);

  // CAP_NET_RAW still serves the gateway prober (ping sockets are off in a
  // new namespace): its probes since the drop all came back, where a
  // refused raw socket would count as a lost probe. Waits for the first
  // probe's outcome (the prober's own pace, not a guess at it).
  boost::json::object reply;
  test::wait_until(
      [&] {
        reply = http_json(*port, "/api/metrics");
        return reply.contains("metrics") && reply["metrics"].is_object() &&
               reply["metrics"].as_object().contains("packet_loss_percent") &&
               !reply["metrics"].as_object()["packet_loss_percent"].is_null();
      },
      test::kPatience, std::chrono::milliseconds(100));
  ASSERT_TRUE(reply.contains("metrics") && reply["metrics"].is_object()) << boost::json::serialize(reply);
  auto& metrics = reply["metrics"].as_object();
  ASSERT_TRUE(metrics.contains("delay_ms") && metrics.contains("packet_loss_percent"))
      << boost::json::serialize(metrics);
  EXPECT_FALSE(metrics["delay_ms"].is_null()) << boost::json::serialize(metrics);
  EXPECT_FALSE(metrics["packet_loss_percent"].is_null());
  if (!metrics["packet_loss_percent"].is_null()) {
    EXPECT_EQ(metrics["packet_loss_percent"].to_number<double>(), 0.0);
  }

  // The drop holds until the end: nothing regained it meanwhile.
  auto later = parse_status_capabilities(read_text(proc + "/status"));
  ASSERT_TRUE(later);
  EXPECT_EQ(later->effective | later->permitted | later->bounding, kKept);
}

// Start-up needs no more than deploy/systemd/bwalloc.service's bounding set
// (CAP_SYS_ADMIN there also covers --netns's setns): capsh drops the rest
// from the bounding set before exec, as systemd would.
TEST_F(PrivilegesNetTest, StartsWithinTheSystemdUnitsBoundingSet) {
  if (run_command({"sh", "-c", "command -v capsh"}).exit_code != 0)
    GTEST_SKIP() << "capsh is not installed (libcap2-bin)";
  const CapabilityMask unit = kKept | (1ull << CAP_SYS_ADMIN) | (1ull << CAP_SETPCAP);
  std::ifstream last_cap_file("/proc/sys/kernel/cap_last_cap");
  int last_cap = CAP_LAST_CAP;
  last_cap_file >> last_cap;
  std::string drop;
  for (const auto& name : capability_list(~unit & ((2ull << last_cap) - 1))) drop += (drop.empty() ? "" : ",") + name;
  auto port = start_agent(agent_, {"capsh", "--drop=" + drop, "--", "-c", "exec \"$0\" \"$@\""});
  ASSERT_TRUE(port) << "the agent did not start within the unit's capabilities:\n" << read_text(kWork + "/agent.log");
  auto health = http_json(*port, "/health");
  ASSERT_TRUE(health.contains("capabilities")) << boost::json::serialize(health);
  auto& caps = health["capabilities"].as_object();
  EXPECT_TRUE(caps["restricted"].as_bool());
  EXPECT_EQ(strings(caps["effective"]), (std::vector<std::string>{"cap_net_admin", "cap_net_raw", "cap_bpf"}));
  EXPECT_EQ(strings(caps["bounding"]), (std::vector<std::string>{"cap_net_admin", "cap_net_raw", "cap_bpf"}));
  EXPECT_EQ(caps["note"].as_string(), "");
  EXPECT_TRUE(health["ok"].as_bool()) << boost::json::serialize(health);
  ASSERT_TRUE(pings(*lan_, 1));
}

}  // namespace
}  // namespace bwalloc
