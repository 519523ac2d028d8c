// The agent's tick and commands on a FakeDatapath and a FakeClock, driven by
// hand (no run loop): what a tick publishes, what a command changes in the
// datapath, the snapshot and the store, and what a failing datapath does.
#include <gtest/gtest.h>

#include "agent/core/policy_rates.h"
#include "tests/unit/runtime/agent_fixture.h"

namespace bwalloc::test {
namespace {

using namespace std::chrono_literals;

DeviceCounters counters(const IpAddress& ip, uint64_t up, uint64_t down) {
  DeviceCounters c;
  c.address = ip;
  c.up_bytes = up;
  c.down_bytes = down;
  return c;
}

TEST_F(AgentTest, TickPublishesUsageTotalsAndTheLimitTheDatapathHolds) {
  start();
  datapath_.set_counters({counters(phone_, 1000, 5000)});
  agent_->tick();
  clock_.advance(1s);
  datapath_.set_counters({counters(phone_, 3000, 15000)});
  agent_->tick();

  const DeviceView* phone = device(phone_);
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(snapshot_->tick, 2u);
  EXPECT_EQ(phone->up_bytes_total, 3000u);
  EXPECT_EQ(phone->down_bytes_total, 15000u);
  EXPECT_EQ(phone->priority, Priority::Normal);
  const uint64_t normal = rate_for(Priority::Normal, config_.rates);
  EXPECT_EQ(phone->up_limit_bits_per_sec, normal);
  EXPECT_EQ(phone->down_limit_bits_per_sec, normal);
  auto policy = datapath_.policy(phone_);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(*policy, policy_for(phone_, Priority::Normal, config_.rates));
  // The second tick's bytes are stored as one sample.
  auto usage = agent_->recent_usage(10);
  ASSERT_TRUE(usage.ok()) << usage.message();
  ASSERT_EQ(usage->size(), 1u);
  EXPECT_EQ((*usage)[0].up_bytes, 2000u);
  EXPECT_EQ((*usage)[0].down_bytes, 10000u);
}

TEST_F(AgentTest, BlockTakesEffectInTheDatapathTheSnapshotAndTheStore) {
  start();
  ASSERT_TRUE(agent_->block(phone_, "homework", "admin").ok());

  auto policy = datapath_.policy(phone_);
  ASSERT_TRUE(policy.has_value());
  EXPECT_EQ(policy->priority, Priority::Blocked);
  const DeviceView* phone = device(phone_);
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->priority, Priority::Blocked);
  EXPECT_EQ(snapshot_->metrics.blocked_devices, 1);
  auto blocked = agent_->blocked();
  ASSERT_TRUE(blocked.ok()) << blocked.message();
  ASSERT_EQ(blocked->size(), 1u);
  EXPECT_EQ((*blocked)[0].reason, "homework");
  auto events = agent_->recent_events(1);
  ASSERT_TRUE(events.ok()) << events.message();
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].message, "blocked 10.0.0.5 by admin: homework");
  EXPECT_EQ((*events)[0].level, EventLevel::Admin);

  ASSERT_TRUE(agent_->unblock(phone_, "admin").ok());
  EXPECT_EQ(datapath_.policy(phone_)->priority, Priority::Normal);
  EXPECT_EQ(device(phone_)->priority, Priority::Normal);
  EXPECT_TRUE(agent_->blocked()->empty());
}

TEST_F(AgentTest, OnePriorityPerDeviceSurvivesARestart) {
  start();
  ASSERT_TRUE(agent_->set_priority(phone_, Priority::High, "admin").ok());
  agent_->tick();
  agent_.reset();
  start();
  const DeviceView* phone = device(phone_);
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->priority, Priority::High);
  EXPECT_TRUE(phone->manual);
  EXPECT_EQ(datapath_.policy(phone_)->priority, Priority::High);
}

TEST_F(AgentTest, AFailedPolicyWriteIsShownAndRetriedByTheNextTick) {
  start();
  datapath_.fail_policies("policy map is full");
  // The command itself succeeds: the wanted state is kept and stored.
  ASSERT_TRUE(agent_->block(phone_, "", "admin").ok());
  EXPECT_FALSE(datapath_.policy(phone_).has_value());
  EXPECT_EQ(device(phone_)->priority, Priority::Blocked);
  EXPECT_NE(snapshot_->health.datapath.pacing_note.find("datapath error: policy map is full"), std::string::npos);

  datapath_.fail_policies(std::nullopt);
  agent_->tick();
  ASSERT_TRUE(datapath_.policy(phone_).has_value());
  EXPECT_EQ(datapath_.policy(phone_)->priority, Priority::Blocked);
  EXPECT_EQ(device(phone_)->priority, Priority::Blocked);
  EXPECT_EQ(snapshot_->health.datapath.pacing_note.find("datapath error"), std::string::npos);
}

TEST_F(AgentTest, ARefusedSettingGivesTheCommandAnErrorAndKeepsTheSettings) {
  start();
  const std::string before = setting("allocator.demotion_ticks");
  datapath_.fail_settings("the kernel refused the horizon");
  auto changed = agent_->update_config({{"allocator.demotion_ticks", "7"}}, "admin");
  ASSERT_FALSE(changed.ok());
  EXPECT_EQ(changed.message(), "apply datapath settings: the kernel refused the horizon");
  EXPECT_EQ(setting("allocator.demotion_ticks"), before);
  EXPECT_TRUE(agent_->recent_events(10)->empty());

  datapath_.fail_settings(std::nullopt);
  ASSERT_TRUE(agent_->update_config({{"allocator.demotion_ticks", "7"}}, "admin").ok());
  EXPECT_EQ(setting("allocator.demotion_ticks"), "7");
  EXPECT_EQ(agent_->recent_events(1)->at(0).message, "settings changed by admin: allocator.demotion_ticks = 7");
}

TEST_F(AgentTest, AFailedCounterReadKeepsTheTotalsAndSaysWhy) {
  start();
  datapath_.set_counters({counters(phone_, 1000, 5000)});
  agent_->tick();
  datapath_.fail_reads("map read failed");
  agent_->tick();
  const DeviceView* phone = device(phone_);
  ASSERT_NE(phone, nullptr);
  EXPECT_EQ(phone->down_bytes_total, 5000u);
  EXPECT_NE(snapshot_->health.datapath.pacing_note.find("datapath error: map read failed"), std::string::npos);
}

}  // namespace
}  // namespace bwalloc::test
