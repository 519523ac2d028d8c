// Runtime settings across a restart, through a real agent and SQLite file:
// a value outside the caps is refused at run time whatever its JSON form,
// and a saved row the next start cannot load is skipped alone, with an
// ERROR event, while every other saved setting still holds.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace bwalloc {
namespace {

class SavedSettingsAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-saved-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.store.path = (dir_ / "bwalloc.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Agent> start() {
    auto store = SqliteStore::open(config_.store.path);
    EXPECT_TRUE(store.ok()) << store.message();
    auto agent = std::make_unique<Agent>(AgentParts{config_, &datapath_, std::move(*store), &clock_, nullptr, nullptr});
    auto restored = agent->restore();
    EXPECT_TRUE(restored.ok()) << restored.message();
    return agent;
  }

  std::string value_of(const Agent& agent, const std::string& key) {
    for (const auto& c : agent.config()) {
      if (c.key == key) return c.value;
    }
    return "";
  }

  std::filesystem::path dir_;
  FakeClock clock_;
  SimulatorDatapath datapath_{clock_, 4, 1};
  Config config_;
};

TEST_F(SavedSettingsAgentTest, AnIntegerBeyondTheCapsIsRefusedLikeTheStringForm) {
  auto agent = start();
  // POST /api/config hands JSON values over as their text.
  auto integer = agent->update_config({{"rates.high", "9223372036854775807"}}, "admin");
  ASSERT_FALSE(integer.ok()) << "saved as " << value_of(*agent, "rates.high");
  EXPECT_NE(integer.message().find("1 Tbit/s"), std::string::npos) << integer.message();
  EXPECT_FALSE(agent->update_config({{"rates.high", "\"9223372036854775807bit\""}}, "admin").ok());
  auto duration = agent->update_config({{"store.raw_retention", "9223372036854775807"}}, "admin");
  EXPECT_FALSE(duration.ok()) << "saved as " << value_of(*agent, "store.raw_retention");
  EXPECT_EQ(value_of(*agent, "rates.high"), "\"100Mbit\"");
}

TEST_F(SavedSettingsAgentTest, ASavedRowThatFailsToLoadIsSkippedAloneWithAnErrorEvent) {
  {
    auto agent = start();
    ASSERT_TRUE(agent->set_auto_mode(false, "admin").ok());
    ASSERT_TRUE(agent->update_config({{"rates.low", "\"3Mbit\""}, {"allocator.demotion_ticks", "5"}}, "admin").ok());
  }
  {
    // What an older agent saved for rates.high = 9223372036854775807.
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok());
    TickRecord record;
    record.ts_ms = 1'800'000'000'000;
    record.config.emplace_back("rates.high", "\"9.22337e+15kbit\"");
    ASSERT_TRUE((*store)->write_tick(record).ok());
  }
  for (int restart = 0; restart < 2; ++restart) {
    auto agent = start();
    EXPECT_FALSE(agent->snapshot()->auto_mode) << "restart " << restart << ": auto mode stays off";
    EXPECT_EQ(value_of(*agent, "rates.low"), "\"3Mbit\"") << "restart " << restart;
    EXPECT_EQ(value_of(*agent, "allocator.demotion_ticks"), "5") << "restart " << restart;
    EXPECT_EQ(value_of(*agent, "rates.high"), "\"100Mbit\"") << "the bad row alone falls back to the file's value";
    auto events = agent->recent_events(50);
    ASSERT_TRUE(events.ok()) << events.message();
    int errors = 0;
    for (const auto& e : *events) {
      if (e.level == EventLevel::Error && e.message.find("rates.high") != std::string::npos) {
        ++errors;
        EXPECT_NE(e.message.find("1 Tbit/s"), std::string::npos) << "says why: " << e.message;
      }
    }
    EXPECT_EQ(errors, restart + 1) << "one ERROR event per start that skipped the row";
  }
}

}  // namespace
}  // namespace bwalloc
