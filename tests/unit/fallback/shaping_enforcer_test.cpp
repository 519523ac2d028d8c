// ShapingEnforcer's rules, shared by the pcap datapath and Windows' NetQos
// one: what is wanted after a refused plan, after a failed command and
// after a good one; the listener; teardown only of what was started. The
// shaper is a small recording planner (the real ones have golden tests of
// their own), the runner fails the commands an entry names.
#include "agent/fallback/shaping_enforcer.h"

#include <gtest/gtest.h>

#include <set>

namespace bwalloc {
namespace {

IpAddress ip(const char* text) { return *IpAddress::parse(text); }

DevicePolicy policy(const char* address, uint64_t down_rate) {
  return DevicePolicy{.address = ip(address), .priority = Priority::Low, .down_rate_bits_per_sec = down_rate};
}

// Plans "fixed" first and after an invalidation, then "shape ADDR RATE" per
// device that differs from what was committed and "unshape ADDR" per device
// no longer wanted. A rate of 13 is a value it refuses.
class PlanningShaper final : public CommandShaper {
 public:
  std::string name() const override { return "planning"; }
  Result<std::vector<Command>> plan(const std::vector<DevicePolicy>& wanted) const override {
    std::vector<Command> out;
    if (!known_) out.push_back({{"fixed"}});
    std::set<std::string> still;
    for (const auto& p : wanted) {
      if (p.down_rate_bits_per_sec == 13) return Error{"rate 13 is refused"};
      const std::string address = p.address.to_string();
      still.insert(address);
      auto it = committed_.find(address);
      if (!known_ || it == committed_.end() || it->second != p.down_rate_bits_per_sec) {
        out.push_back({{"shape", address, std::to_string(p.down_rate_bits_per_sec)}});
      }
    }
    if (known_) {
      for (const auto& [address, rate] : committed_) {
        if (!still.count(address)) out.push_back({{"unshape", address}});
      }
    }
    return out;
  }
  void commit(const std::vector<DevicePolicy>& wanted) override {
    committed_.clear();
    for (const auto& p : wanted) committed_[p.address.to_string()] = p.down_rate_bits_per_sec;
    known_ = true;
  }
  void invalidate() override { known_ = false; }
  std::vector<Command> teardown() override {
    committed_.clear();
    known_ = false;
    return {{{"teardown"}, true}};
  }
  Result<void> update_ports(const std::vector<ProtocolPort>& priority, const std::vector<ProtocolPort>&) override {
    if (!priority.empty() && priority.front().port == 0) return Error{"port 0 is refused"};
    known_ = false;  // the port filters are part of the fixed tree here
    return {};
  }

 private:
  std::map<std::string, uint64_t> committed_;
  bool known_ = false;
};

struct Ran {
  std::vector<std::string> commands;
  std::string fail_word;  // a command containing it fails
};

class FailingRunner final : public CommandRunner {
 public:
  explicit FailingRunner(Ran& ran) : CommandRunner(false), ran_(ran) {}

 protected:
  Result<void> execute(const std::vector<std::string>& argv) override {
    const std::string text = Command{argv}.to_string();
    ran_.commands.push_back(text);
    if (!ran_.fail_word.empty() && text.find(ran_.fail_word) != std::string::npos) return Error{"tc: Invalid argument"};
    return {};
  }

 private:
  Ran& ran_;
};

class ShapingEnforcerTest : public ::testing::Test {
 protected:
  std::vector<std::string> take() { return std::exchange(ran_.commands, {}); }

  Ran ran_;
  std::vector<std::map<IpAddress, DevicePolicy>> told_;
  ShapingEnforcer enforcer_{std::make_unique<PlanningShaper>(), std::make_unique<FailingRunner>(ran_),
                            [this](const std::map<IpAddress, DevicePolicy>& wanted) { told_.push_back(wanted); }};
};

TEST_F(ShapingEnforcerTest, StartInstallsTheFixedPartAndChangesRunOnlyTheirDifference) {
  ASSERT_TRUE(enforcer_.start().ok());
  EXPECT_EQ(take(), (std::vector<std::string>{"fixed"}));
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.2", 1000), policy("10.0.0.3", 2000)}).ok());
  EXPECT_EQ(take(), (std::vector<std::string>{"shape 10.0.0.2 1000", "shape 10.0.0.3 2000"}));
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.3", 3000)}).ok());
  EXPECT_EQ(take(), (std::vector<std::string>{"shape 10.0.0.3 3000"}));
  ASSERT_TRUE(enforcer_.remove(ip("10.0.0.2")).ok());
  EXPECT_EQ(take(), (std::vector<std::string>{"unshape 10.0.0.2"}));
  ASSERT_TRUE(enforcer_.remove(ip("10.0.0.9")).ok());
  EXPECT_TRUE(take().empty()) << "an unshaped device needs no command";
  EXPECT_EQ(enforcer_.status().shaped_devices, 1u);
  EXPECT_EQ(enforcer_.status().shaper, "planning");
}

TEST_F(ShapingEnforcerTest, ARefusedPlanChangesNothingAndRunsNothing) {
  ASSERT_TRUE(enforcer_.start().ok());
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.2", 1000)}).ok());
  take();
  const size_t told = told_.size();
  auto refused = enforcer_.apply({policy("10.0.0.2", 13), policy("10.0.0.3", 2000)});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.message().find("rate 13"), std::string::npos) << refused.message();
  EXPECT_TRUE(take().empty());
  EXPECT_EQ(told_.size(), told) << "the listener hears only accepted changes";
  // What was wanted before still is: the next change plans from it.
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.3", 2000)}).ok());
  EXPECT_EQ(take(), (std::vector<std::string>{"shape 10.0.0.3 2000"}));
}

TEST_F(ShapingEnforcerTest, AFailedCommandKeepsTheChangeWantedAndTheNextChangeRebuildsEverything) {
  ASSERT_TRUE(enforcer_.start().ok());
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.2", 1000)}).ok());
  take();
  ran_.fail_word = "10.0.0.3";
  auto failed = enforcer_.apply({policy("10.0.0.3", 2000)});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("Invalid argument"), std::string::npos) << failed.message();
  EXPECT_EQ(enforcer_.status().error, failed.message());
  ASSERT_FALSE(told_.empty());
  EXPECT_EQ(told_.back().count(ip("10.0.0.3")), 1u) << "the failed change is still wanted";
  take();
  ran_.fail_word.clear();
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.4", 4000)}).ok());
  EXPECT_EQ(take(),
            (std::vector<std::string>{"fixed", "shape 10.0.0.2 1000", "shape 10.0.0.3 2000", "shape 10.0.0.4 4000"}));
  EXPECT_EQ(enforcer_.status().error, "");
  EXPECT_EQ(enforcer_.status().shaped_devices, 3u);
}

TEST_F(ShapingEnforcerTest, NewPortsAreValidatedFirstThenEveryWantedPolicyIsPlannedAgain) {
  ASSERT_TRUE(enforcer_.start().ok());
  ASSERT_TRUE(enforcer_.apply({policy("10.0.0.2", 1000)}).ok());
  take();
  bool accepted = false;
  ASSERT_FALSE(enforcer_.update_ports({{6, 0}}, {}, [&] { accepted = true; }).ok());
  EXPECT_FALSE(accepted);
  EXPECT_TRUE(take().empty());
  ASSERT_TRUE(enforcer_.update_ports({{6, 8443}}, {}, [&] { accepted = true; }).ok());
  EXPECT_TRUE(accepted);
  EXPECT_EQ(take(), (std::vector<std::string>{"fixed", "shape 10.0.0.2 1000"}));
}

TEST_F(ShapingEnforcerTest, TeardownRemovesOnlyWhatStartBegan) {
  enforcer_.teardown();
  EXPECT_TRUE(take().empty()) << "nothing was installed";
  ran_.fail_word = "fixed";
  ASSERT_FALSE(enforcer_.start().ok());
  take();
  enforcer_.teardown();
  EXPECT_EQ(take(), (std::vector<std::string>{"teardown"})) << "a half-built tree is taken down too";
  enforcer_.teardown();
  EXPECT_TRUE(take().empty());
}

}  // namespace
}  // namespace bwalloc
