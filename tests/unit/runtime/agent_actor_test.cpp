// The agent as an actor: with Agent::run on its own thread, commands from
// other threads run on that thread (so in the datapath's namespace), are
// answered once a busy tick is done, and time out with an error a person
// can act on; the run loop ticks on the Clock it is given.
#include <gtest/gtest.h>

#include <future>

#include "tests/unit/runtime/agent_fixture.h"

namespace bwalloc::test {
namespace {

using namespace std::chrono_literals;

TEST_F(AgentTest, CommandsTouchTheDatapathOnlyFromTheRunLoopsThread) {
  start();
  start_run_loop();
  wait_for_tick(1);
  datapath_.forget_callers();
  // Each of these publishes a snapshot, which reads the datapath's status
  // (interfaces by name: only right in the datapath's namespace).
  ASSERT_TRUE(agent_->block(phone_, "", "admin").ok());
  ASSERT_TRUE(agent_->set_priority(phone_, Priority::Low, "admin").ok());
  ASSERT_TRUE(agent_->unblock(phone_, "admin").ok());
  ASSERT_TRUE(agent_->update_config({{"allocator.demotion_ticks", "4"}}, "admin").ok());
  ASSERT_TRUE(agent_->set_auto_mode(false, "admin").ok());
  agent_->set_privileges(PrivilegeView{.restricted = true});
  EXPECT_TRUE(agent_->snapshot()->health.privileges.restricted);
  EXPECT_EQ(datapath_.callers(), std::set<std::thread::id>{run_thread_});
}

TEST_F(AgentTest, ACommandSentWhileATickIsBusyIsAnsweredWhenItEnds) {
  start();
  datapath_.hold_reads();
  start_run_loop();
  datapath_.wait_for_held_read();  // the first tick is stuck in the datapath
  auto answer = std::async(std::launch::async, [&] { return agent_->block(phone_, "", "admin"); });
  datapath_.release_reads();
  auto blocked = answer.get();
  ASSERT_TRUE(blocked.ok()) << blocked.message();
  EXPECT_EQ(datapath_.policy(phone_)->priority, Priority::Blocked);
  EXPECT_EQ(device(phone_)->priority, Priority::Blocked);
}

TEST_F(AgentTest, ACommandTheTickThreadCannotTakeTimesOutAndChangesNothing) {
  start(50ms);
  datapath_.hold_reads();
  start_run_loop();
  datapath_.wait_for_held_read();
  auto blocked = agent_->block(phone_, "", "admin");
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.message(),
            "the agent did not answer within 50 ms (its tick thread is busy or stuck; see the log); nothing was "
            "changed, try again");
  datapath_.release_reads();
  // A later command goes through: the withdrawn one never ran.
  ASSERT_TRUE(agent_->set_auto_mode(false, "admin").ok());
  EXPECT_FALSE(datapath_.policy(phone_).has_value());
  EXPECT_EQ(device(phone_), nullptr);
  EXPECT_TRUE(agent_->blocked()->empty());
}

TEST_F(AgentTest, TheRunLoopTicksWhenTheClockSaysSo) {
  config_.allocator.tick = 1s;
  start();
  start_run_loop();
  wait_for_tick(1);  // the first tick is due at once
  // A command makes the loop go round; the clock has not moved: no tick.
  ASSERT_TRUE(agent_->set_auto_mode(false, "admin").ok());
  EXPECT_EQ(agent_->snapshot()->tick, 1u);
  clock_.advance(1s);
  wait_for_tick(2);
  ASSERT_TRUE(agent_->set_auto_mode(true, "admin").ok());
  EXPECT_EQ(agent_->snapshot()->tick, 2u);
}

TEST_F(AgentTest, CommandsRunInlineWhileNoRunLoopRuns) {
  start();
  std::thread::id ran_on;
  std::thread other([&] {
    ran_on = std::this_thread::get_id();
    ASSERT_TRUE(agent_->block(phone_, "", "admin").ok());
  });
  other.join();
  EXPECT_EQ(datapath_.policy(phone_)->priority, Priority::Blocked);
  EXPECT_EQ(datapath_.callers().count(ran_on), 1u);
}

}  // namespace
}  // namespace bwalloc::test
