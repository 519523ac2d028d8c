// Agent::run on its own thread, as the daemon runs it, while two more do
// what the HTTP server's two threads do: one changes settings and blocks and
// unblocks a device, the other reads the history, events, settings and the
// snapshot. Each result is checked; the point is ThreadSanitizer
// (scripts/sanitize.sh --tsan), which reports any access these threads make
// to the agent's state without its lock (update_config assigning the
// settings while run read the tick period was one).
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <thread>

#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"

namespace bwalloc {
namespace {

using namespace std::chrono_literals;

// Only turns a stopped run loop into a failure: at the shortest tick
// (100 ms) the agent ticks ten times a second.
constexpr auto kSafetyTimeout = 120s;

std::string setting(const Agent& agent, const std::string& name) {
  for (const auto& entry : agent.config()) {
    if (entry.key == name) return entry.value;
  }
  return "";
}

class AgentThreads : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-agent-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Config config;
    config.store.path = (dir_ / "bwalloc.db").string();
    config.allocator.tick = 100ms;  // the shortest validate() allows: many ticks race the commands
    datapath_ = std::make_unique<SimulatorDatapath>(clock_, 8, 11);
    auto store = SqliteStore::open(config.store.path);
    ASSERT_TRUE(store.ok()) << store.message();
    agent_ = std::make_unique<Agent>(AgentParts{config, datapath_.get(), std::move(*store), &clock_, nullptr, nullptr});
    ASSERT_TRUE(agent_->restore().ok());
  }
  void TearDown() override {
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  SystemClock clock_;
  std::unique_ptr<SimulatorDatapath> datapath_;
  std::unique_ptr<Agent> agent_;
};

TEST_F(AgentThreads, CommandsAndReadsFromOtherThreadsWhileRunTicks) {
  const IpAddress device = IpAddress::parse("10.0.0.200").value();
  std::atomic<bool> stop_ticks{false}, stop_reads{false}, reads_failed{false};
  std::atomic<uint64_t> reads{0};
  std::thread ticker([&] { agent_->run(stop_ticks); });
  // The HTTP server's other thread: reads (history first, so its first use
  // of the reader connection meets the commands below), while this thread
  // sends commands.
  std::thread reader([&] {
    while (!stop_reads) {
      const bool ok = agent_->history(device, 0, INT64_MAX, HistoryResolution::Raw).ok() &&
                      agent_->recent_events(5).ok() && agent_->recent_usage(5).ok() && agent_->blocked().ok() &&
                      !setting(*agent_, "allocator.demotion_ticks").empty() && !agent_->snapshot()->devices.empty();
      if (!ok) reads_failed = true;
      ++reads;
      std::this_thread::sleep_for(1ms);  // pacing only
    }
  });
  struct StopThreads {  // also when an assertion returns early
    std::atomic<bool>& stop_ticks;
    std::atomic<bool>& stop_reads;
    std::thread& ticker;
    std::thread& reader;
    ~StopThreads() {
      stop_reads = true;
      if (reader.joinable()) reader.join();
      stop_ticks = true;
      if (ticker.joinable()) ticker.join();
    }
  } stop_threads{stop_ticks, stop_reads, ticker, reader};

  const uint64_t first_tick = agent_->snapshot()->tick;
  const auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
  int changes = 0;
  // Commands until the run loop has gone through 10 ticks (and the sleeps
  // between them) since the first command, and the reader has read a few
  // times: each of them raced commands.
  while (agent_->snapshot()->tick < first_tick + 10 || reads < 10) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the run loop or the reader stopped";
    const std::string demotion = std::to_string(1 + changes % 5);
    ASSERT_TRUE(agent_->update_config({{"allocator.demotion_ticks", demotion}}, "test").ok());
    ASSERT_TRUE(agent_->set_auto_mode(changes % 2 == 0, "test").ok());
    ASSERT_TRUE((changes % 2 == 0 ? agent_->block(device, "test", "test") : agent_->unblock(device, "test")).ok());
    ++changes;
    std::this_thread::sleep_for(1ms);  // pacing only: leaves the lock to the other threads now and then
  }
  stop_reads = true;
  reader.join();
  stop_ticks = true;
  ticker.join();
  EXPECT_FALSE(reads_failed) << "a read failed while commands ran";
  EXPECT_EQ(setting(*agent_, "allocator.demotion_ticks"), std::to_string(1 + (changes - 1) % 5));
}

}  // namespace
}  // namespace bwalloc
