// The fixture of the agent's runtime tests: an Agent on a FakeDatapath and a
// FakeClock, with a real SQLite file in a temporary directory. Tests either
// drive tick() by hand (no run loop: commands run inline, see
// agent/runtime/command_mailbox.h) or start the run loop on its own thread
// with start_run_loop().
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <thread>

#include "agent/runtime/agent.h"
#include "tests/fakes/fake_clock.h"
#include "tests/fakes/fake_datapath.h"

namespace bwalloc::test {

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("bwalloc-runtime-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.store.path = (dir_ / "bwalloc.db").string();
  }
  void TearDown() override {
    stop_run_loop();
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }

  void start(std::chrono::milliseconds command_timeout = std::chrono::seconds(10)) {
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok()) << store.message();
    AgentParts parts{config_, &datapath_, std::move(*store), &clock_, nullptr, nullptr};
    parts.command_timeout = command_timeout;
    agent_ = std::make_unique<Agent>(std::move(parts));
    auto restored = agent_->restore();
    ASSERT_TRUE(restored.ok()) << restored.message();
  }

  // Runs Agent::run on its own thread; run_thread_ is its id.
  void start_run_loop() {
    std::atomic<bool> started{false};
    ticker_ = std::thread([&] {
      run_thread_ = std::this_thread::get_id();
      started = true;
      agent_->run(stop_);
    });
    while (!started) std::this_thread::yield();
  }
  void stop_run_loop() {
    stop_ = true;
    if (ticker_.joinable()) ticker_.join();
  }
  // Waits until the agent has published tick `n` (the run loop's doing).
  void wait_for_tick(uint64_t n) {
    while (agent_->snapshot()->tick < n) std::this_thread::yield();
  }

  const DeviceView* device(const IpAddress& ip) const {
    snapshot_ = agent_->snapshot();
    for (const auto& d : snapshot_->devices) {
      if (d.ip == ip) return &d;
    }
    return nullptr;
  }
  std::string setting(const std::string& name) const {
    for (const auto& entry : agent_->config()) {
      if (entry.key == name) return entry.value;
    }
    return "";
  }

  const IpAddress phone_ = IpAddress::parse("10.0.0.5").value();
  std::filesystem::path dir_;
  Config config_;
  FakeClock clock_;
  FakeDatapath datapath_;
  std::unique_ptr<Agent> agent_;
  std::atomic<bool> stop_{false};
  std::thread ticker_;
  std::thread::id run_thread_;
  mutable std::shared_ptr<const Snapshot> snapshot_;
};

}  // namespace bwalloc::test
