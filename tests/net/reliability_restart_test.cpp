// Hitless restart (issue 7, item 1): 50 times `kill -9` of the real
// `bwalloc run` and a restart, while dev1 pings the internet side through the
// router at 100 Hz. The kernel keeps shaping from the pins while no agent
// runs: not one ping is lost, Blocked dev2 gets no packet through, dev3's
// Low limit stays in the policy map, counters (pinned map and API) never go
// back, and the SQLite history loses no tick: every tick an agent made
// before it was killed is a row (counted by the agent's own tick counter,
// not by the clock), and the first tick of a restarted agent records the
// bytes of the downtime (resumed counter baselines), so the history's byte
// sum equals the kernel's count exactly.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <regex>
#include <set>
#include <thread>

#include "bwalloc_maps.h"
#include "tests/net/reliability_support.h"

namespace bwalloc {
namespace {

using namespace std::chrono;
using test::AgentSandbox;
using test::BackgroundProcess;
using test::SpawnedAgent;
using test::VirtualLan;

constexpr int kCycles = 50;
constexpr int kBlockedPingSize = 321;  // ip length 349: only dev2 sends it

int64_t wall_ms() { return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count(); }

// The agent's own count of finished ticks (/health), -1 when it does not answer.
int64_t ticks_of(int port) {
  auto health = test::get_json(port, "/health");
  return health.contains("ticks") ? health["ticks"].to_number<int64_t>() : -1;
}

class ReliabilityRestart : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (test::run_command({"sh", "-c", "command -v curl"}).exit_code != 0) GTEST_SKIP() << "curl is not installed";
    box_.clear();  // a killed earlier run's leftovers
    std::filesystem::create_directories(box_.work);
    lan_.emplace(box_.prefix, 3);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
  }
  void TearDown() override {
    pingers_.clear();
    agent_.reset();
    if (lan_) {
      std::vector<std::string> detach = {BWALLOC_BINARY, "detach"};
      auto options = box_.options();
      detach.insert(detach.end(), options.begin(), options.end());
      test::run_command(detach);
    }
    lan_.reset();
    box_.clear();
  }

  std::string dev1_rows_sql(int64_t after_ms) const {
    return "SELECT ts FROM usage_raw WHERE ip = '" + VirtualLan::device_ipv4(1) + "' AND ts > " +
           std::to_string(after_ms) + " ORDER BY ts";
  }

  // Waits until the agent wrote a usage row for dev1 newer than `after_ms`
  // (nullopt when the agent exited first, or after kPatience: a hang).
  std::optional<int64_t> wait_for_row(int64_t after_ms) {
    std::optional<int64_t> row;
    test::wait_until(
        [&] {
          int64_t ts =
              test::sql_int(box_.db(), "SELECT MAX(ts) FROM usage_raw WHERE ip = '" + VirtualLan::device_ipv4(1) + "'");
          if (ts > after_ms) row = ts;
          return row || (agent_ && agent_->exited());
        },
        test::kPatience, milliseconds(5));
    return row;
  }

  AgentSandbox box_ = AgentSandbox::named("r");
  std::optional<VirtualLan> lan_;
  std::unique_ptr<SpawnedAgent> agent_;
  std::vector<std::unique_ptr<BackgroundProcess>> pingers_;
  int spawned_ = 0;

  void spawn() {
    agent_ = std::make_unique<SpawnedAgent>(box_, box_.work + "/agent-" + std::to_string(++spawned_) + ".log");
  }
};

TEST_F(ReliabilityRestart, FiftyKillNineRestartsLoseNoPingNoBlockNoLimitNoHistory) {
  const std::string dev1 = VirtualLan::device_ipv4(1), dev2 = VirtualLan::device_ipv4(2),
                    dev3 = VirtualLan::device_ipv4(3);
  spawn();
  auto port = agent_->wait_for_port();
  ASSERT_TRUE(port) << "the agent did not start:\n" << agent_->log();
  std::string token = test::read_text(box_.token_file());
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();
  ASSERT_FALSE(token.empty());
  ASSERT_EQ(test::post_json(*port, "/api/block", "{\"ip\":\"" + dev2 + "\",\"reason\":\"restart test\"}", token), 200);
  ASSERT_EQ(test::post_json(*port, "/api/set_priority", "{\"ip\":\"" + dev3 + "\",\"priority\":\"Low\"}", token), 200);
  auto blocked = test::pinned_policy(box_.pin_dir, dev2);
  ASSERT_TRUE(blocked && (blocked->flags & BWA_POLICY_BLOCKED));
  auto low = test::pinned_policy(box_.pin_dir, dev3);
  ASSERT_TRUE(low && low->down_rate == 625'000u && low->priority == BWA_PRIO_LOW);
  ASSERT_TRUE(test::install_echo_probe(lan_->inet_ns(), "eth0", 20 + 8 + kBlockedPingSize, box_.work + "/probe.nft"));

  // dev1 starts only after the agent's first tick, so its counter entry is
  // new to the agent and every one of its bytes must reach the history.
  const std::string dev1_log = box_.work + "/ping-dev1.log", dev2_log = box_.work + "/ping-dev2.log";
  const int64_t start_ms = wall_ms();
  // Before dev2's first ping: every one it sends must be dropped and counted.
  auto dev2_before = test::pinned_counters(box_.pin_dir, dev2);
  ASSERT_TRUE(dev2_before);
  pingers_.push_back(std::make_unique<BackgroundProcess>(
      lan_->device_ns(1), std::vector<std::string>{"ping", "-n", "-D", "-i", "0.01", VirtualLan::kInetIpv4}, dev1_log));
  pingers_.push_back(std::make_unique<BackgroundProcess>(
      lan_->device_ns(2),
      std::vector<std::string>{"ping", "-n", "-i", "0.05", "-s", std::to_string(kBlockedPingSize),
                               VirtualLan::kInetIpv4},
      dev2_log));
  pingers_.push_back(std::make_unique<BackgroundProcess>(
      lan_->device_ns(3), std::vector<std::string>{"ping", "-n", "-i", "0.1", VirtualLan::kInetIpv4}));
  ASSERT_TRUE(wait_for_row(0)) << agent_->log();

  std::mt19937 random(7);
  test::PinnedCounters last_pinned{};
  uint64_t last_api_up = 0;
  struct Restart {
    int64_t kill_ms, first_row_ms;
    int64_t ticks_before_kill;  // the killed agent's finished ticks, asked just before the kill
  };
  std::vector<Restart> restarts;
  int64_t longest_down_ms = 0;
  auto check_pins = [&](const char* when, int cycle) {
    auto c = test::pinned_counters(box_.pin_dir, dev1);
    ASSERT_TRUE(c) << when;
    EXPECT_GE(c->up_bytes, last_pinned.up_bytes) << "pinned counter went back " << when << " in cycle " << cycle;
    EXPECT_GE(c->down_bytes, last_pinned.down_bytes) << when << " in cycle " << cycle;
    last_pinned = *c;
    auto b = test::pinned_policy(box_.pin_dir, dev2);
    EXPECT_TRUE(b && (b->flags & BWA_POLICY_BLOCKED))
        << "dev2's block left the policy map " << when << " in cycle " << cycle;
    auto l = test::pinned_policy(box_.pin_dir, dev3);
    EXPECT_TRUE(l && l->down_rate == 625'000u && l->up_rate == 625'000u)
        << "dev3's limit changed " << when << " in cycle " << cycle;
  };

  for (int cycle = 0; cycle < kCycles && !HasFailure(); ++cycle) {
    std::this_thread::sleep_for(milliseconds(20 + random() % 280));  // a random point in the tick
    const int64_t ticks_before_kill = ticks_of(*port);
    ASSERT_GE(ticks_before_kill, 0) << "the agent does not answer /health in cycle " << cycle;
    const int64_t kill_ms = wall_ms();
    agent_->kill9();
    check_pins("while no agent runs", cycle);
    if (cycle % 5 == 4) {
      // A kill in the middle of start-up (loading, adopting, attaching).
      spawn();
      std::this_thread::sleep_for(milliseconds(random() % 250));
      agent_->kill9();
      check_pins("after a kill during start-up", cycle);
    }
    spawn();
    auto row = wait_for_row(kill_ms);
    ASSERT_TRUE(row) << "no tick after restart " << cycle << ":\n" << agent_->log();
    restarts.push_back({kill_ms, *row, ticks_before_kill});
    longest_down_ms = std::max(longest_down_ms, *row - kill_ms);
    check_pins("after the restart", cycle);
    port = agent_->wait_for_port();
    ASSERT_TRUE(port) << agent_->log();
    auto device = test::api_device(*port, dev1);
    ASSERT_TRUE(device.contains("up_bytes_total")) << "dev1 missing from the API after restart " << cycle;
    uint64_t api_up = device["up_bytes_total"].to_number<uint64_t>();
    EXPECT_GE(api_up, last_api_up) << "the API's counter went back in cycle " << cycle;
    last_api_up = api_up;
  }
  ASSERT_FALSE(HasFailure());

  // Stop the pings (SIGINT: ping prints its summary and exits), wait for two
  // ticks that started after they stopped, so the agent has recorded the
  // last bytes, then compare.
  const int64_t last_ticks_pinging = ticks_of(*port);  // each of these ticks saw dev1's pings
  ASSERT_GE(last_ticks_pinging, 0);
  for (auto& p : pingers_) kill(p->pid(), SIGINT);
  for (auto& p : pingers_) ASSERT_TRUE(p->wait_exit()) << "ping " << p->pid() << " did not stop on SIGINT";
  pingers_.clear();
  const int64_t ticks_after_pings = ticks_of(*port);
  ASSERT_TRUE(test::wait_until([&] { return ticks_of(*port) >= ticks_after_pings + 2; }))
      << "the agent stopped ticking:\n"
      << agent_->log();

  // Not one of dev1's echo requests unanswered: every sequence number up to
  // the last answered one came back.
  std::set<int> answered;
  std::string pings = test::read_text(dev1_log);
  static const std::regex reply("icmp_seq=([0-9]+) ttl");
  for (auto it = std::sregex_iterator(pings.begin(), pings.end(), reply); it != std::sregex_iterator(); ++it) {
    answered.insert(std::stoi((*it)[1]));
  }
  ASSERT_FALSE(answered.empty()) << pings.substr(0, 500);
  int highest = *answered.rbegin();
  int lost = 0;
  std::string missing;
  for (int seq = *answered.begin(); seq <= highest; ++seq) {
    if (answered.count(seq)) continue;
    ++lost;
    if (missing.size() < 400) missing += " " + std::to_string(seq);
  }
  if (getenv("BWRL_KEEP")) {
    std::string events;
    for (auto& r : restarts)
      events += std::to_string(r.kill_ms) + " kill, first row " + std::to_string(r.first_row_ms) + "\n";
    std::ofstream(box_.work + "/../bwrl-restarts.txt") << events << "missing:" << missing << "\n" << pings;
  }
  std::printf(
      "restart cycles: %d (+%d kills during start-up); pings sent (answered range) %d, lost %d; "
      "longest kill-to-first-tick %lld ms\n",
      kCycles, kCycles / 5, highest - *answered.begin() + 1, lost, static_cast<long long>(longest_down_ms));
  RecordProperty("pings", highest - *answered.begin() + 1);
  RecordProperty("pings_lost", lost);
  RecordProperty("longest_kill_to_first_tick_ms", std::to_string(longest_down_ms));
  EXPECT_EQ(lost, 0) << "pings were lost across the restarts";
  EXPECT_GT(highest, kCycles * 20) << "the 100 Hz ping did not run through the cycles";

  // Blocked dev2: nothing reached the internet side, everything was dropped.
  auto reached = test::echo_probe_packets(lan_->inet_ns());
  ASSERT_TRUE(reached);
  EXPECT_EQ(*reached, 0u) << "a Blocked device's packets got through";
  auto dev2_after = test::pinned_counters(box_.pin_dir, dev2);
  std::smatch m;
  std::string dev2_pings = test::read_text(dev2_log);
  ASSERT_TRUE(std::regex_search(dev2_pings, m, std::regex("([0-9]+) packets transmitted"))) << dev2_pings;
  uint64_t dev2_sent = std::stoull(m[1]);
  EXPECT_GE(dev2_after->blocked_drops - dev2_before->blocked_drops + 40, dev2_sent) << "dev2's drops were not counted";

  // History: the byte sums equal the kernel's counts (no tick lost, none
  // counted twice), and every tick a restarted agent finished (while dev1
  // pinged, so each had bytes of dev1) is a row: between a restart and the
  // next kill there are at least as many rows as the killed agent had ticks
  // just before the kill. The gaps between rows are shown, not asserted: a
  // loaded machine delays ticks, and a late tick loses nothing.
  auto sums = test::sql_rows(box_.db(), "SELECT SUM(tx_bytes), SUM(rx_bytes) FROM usage_raw WHERE ip = '" + dev1 + "'");
  auto kernel = test::pinned_counters(box_.pin_dir, dev1);
  ASSERT_EQ(sums.size(), 1u);
  std::printf("dev1 bytes: history up %lld down %lld, kernel up %llu down %llu\n", static_cast<long long>(sums[0][0]),
              static_cast<long long>(sums[0][1]), static_cast<unsigned long long>(kernel->up_bytes),
              static_cast<unsigned long long>(kernel->down_bytes));
  EXPECT_EQ(static_cast<uint64_t>(sums[0][0]), kernel->up_bytes) << "the history lost or doubled upload bytes";
  EXPECT_EQ(static_cast<uint64_t>(sums[0][1]), kernel->down_bytes) << "the history lost or doubled download bytes";

  auto rows = test::sql_rows(box_.db(), dev1_rows_sql(start_ms));
  // Agent lives after the first (whose first ticks came before dev1 pinged):
  // from restart i-1's kill to restart i's kill, the last one to the end.
  for (size_t life = 1; life <= restarts.size(); ++life) {
    const int64_t from = restarts[life - 1].kill_ms;
    const int64_t to = life < restarts.size() ? restarts[life].kill_ms : std::numeric_limits<int64_t>::max();
    const int64_t ticks = life < restarts.size() ? restarts[life].ticks_before_kill : last_ticks_pinging;
    const auto in_life =
        std::count_if(rows.begin(), rows.end(), [&](const auto& r) { return r[0] > from && r[0] <= to; });
    EXPECT_GE(in_life, ticks) << "agent " << life << " (restarted in cycle " << life - 1 << ") finished " << ticks
                              << " ticks but the history holds " << in_life << " rows of dev1 for them";
  }
  int64_t longest_plain_gap = 0, longest_restart_gap = 0;
  size_t next_restart = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    int64_t previous = rows[i - 1][0], ts = rows[i][0];
    bool across_restart = false;
    while (next_restart < restarts.size() && restarts[next_restart].kill_ms < ts) {
      if (restarts[next_restart].kill_ms > previous) across_restart = true;
      ++next_restart;
    }
    if (across_restart) {
      longest_restart_gap = std::max(longest_restart_gap, ts - previous);
    } else {
      longest_plain_gap = std::max(longest_plain_gap, ts - previous);
    }
  }
  std::printf("history rows %zu: longest gap %lld ms between ticks, %lld ms across a restart\n", rows.size(),
              static_cast<long long>(longest_plain_gap), static_cast<long long>(longest_restart_gap));
  RecordProperty("longest_gap_between_ticks_ms", std::to_string(longest_plain_gap));
  RecordProperty("longest_gap_across_a_restart_ms", std::to_string(longest_restart_gap));
}

}  // namespace
}  // namespace bwalloc
