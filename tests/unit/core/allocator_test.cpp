// The allocator's rules pinned at their boundaries, as SEED_BEHAVIOUR.md
// states them: strict thresholds, the 2-sigma spike rule (5 samples with the
// newest, population stddev, newest excluded), 3-tick demotion hysteresis,
// immediate promotion, hands off Blocked and manual devices, auto mode off.
#include "agent/core/allocator.h"
#include "tests/fakes/fake_clock.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

const IpAddress kDevice = IpAddress::parse("10.10.0.5").value();

class AllocatorTest : public ::testing::Test {
 protected:
  AllocatorConfig config;  // 80 kbit/s and 2 Mbit/s, sigma 2, 5 samples, 3 ticks
  FakeClock clock;
  std::unordered_map<IpAddress, AllocatorState> states;

  AllocationResult tick(std::deque<double> window) {
    auto result = allocate({{kDevice, window}}, states, config, clock);
    states = result.states;
    clock.advance(std::chrono::seconds(1));
    return result;
  }
  Priority priority() { return states[kDevice].priority; }
};

TEST_F(AllocatorTest, ThresholdsAreStrict) {
  EXPECT_EQ(threshold_priority(79'999.9, config), Priority::High);
  EXPECT_EQ(threshold_priority(80'000, config), Priority::Normal) << "exactly the High threshold is not below it";
  EXPECT_EQ(threshold_priority(2'000'000, config), Priority::Normal) << "exactly the Low threshold is not above it";
  EXPECT_EQ(threshold_priority(2'000'000.1, config), Priority::Low);
}

TEST_F(AllocatorTest, NeverClassifiedDeviceIsNormalAndPromotionIsImmediate) {
  EXPECT_EQ(states[kDevice].priority, Priority::Normal);
  auto r = tick({10'000});
  EXPECT_EQ(priority(), Priority::High);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].level, EventLevel::Auto);
  EXPECT_NE(r.events[0].message.find("Normal -> High"), std::string::npos) << r.events[0].message;
}

TEST_F(AllocatorTest, DemotionNeedsThreeConsecutiveTicks) {
  states[kDevice].priority = Priority::High;
  tick({3'000'000});
  EXPECT_EQ(priority(), Priority::High);
  EXPECT_EQ(states[kDevice].pending, Priority::Low);
  EXPECT_EQ(states[kDevice].pending_ticks, 1);
  tick({3'000'000, 3'000'000});
  EXPECT_EQ(priority(), Priority::High);
  EXPECT_EQ(states[kDevice].pending_ticks, 2);
  auto r = tick({3'000'000, 3'000'000, 3'000'000});
  EXPECT_EQ(priority(), Priority::Low);
  EXPECT_FALSE(states[kDevice].pending.has_value());
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_NE(r.events[0].message.find("for 3 ticks"), std::string::npos) << r.events[0].message;
}

TEST_F(AllocatorTest, HysteresisRestartsWhenTheProposalChanges) {
  states[kDevice].priority = Priority::High;
  tick({3'000'000});           // proposes Low
  tick({3'000'000, 500'000});  // proposes Normal: the count restarts
  EXPECT_EQ(states[kDevice].pending, Priority::Normal);
  EXPECT_EQ(states[kDevice].pending_ticks, 1);
  tick({3'000'000, 500'000, 500'000});
  EXPECT_EQ(priority(), Priority::High);
  tick({3'000'000, 500'000, 500'000, 500'000});
  EXPECT_EQ(priority(), Priority::Normal);
}

TEST_F(AllocatorTest, ProposalMatchingCurrentClearsPending) {
  states[kDevice].priority = Priority::High;
  tick({3'000'000});
  tick({3'000'000, 10'000});
  EXPECT_FALSE(states[kDevice].pending.has_value());
  EXPECT_EQ(states[kDevice].pending_ticks, 0);
}

TEST_F(AllocatorTest, PopulationStddevOfEarlierSamplesNewestExcluded) {
  // Earlier samples 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population stddev 2
  // (the sample stddev would be 2.138). The newest (1000) is excluded.
  SpikeStats s = earlier_sample_stats({2, 4, 4, 4, 5, 5, 7, 9, 1000});
  EXPECT_DOUBLE_EQ(s.mean, 5.0);
  EXPECT_DOUBLE_EQ(s.stddev, 2.0);
}

TEST_F(AllocatorTest, SpikeNeedsFiveSamplesIncludingTheNewest) {
  const double base = 100'000;  // above the High threshold, so the mean qualifies
  EXPECT_FALSE(is_spike({base, base, base, 1'000'000}, config)) << "4 samples are not enough";
  EXPECT_TRUE(is_spike({base, base, base, base, 1'000'000}, config)) << "5 samples are";
}

TEST_F(AllocatorTest, SpikeBoundaryIsStrictAboveMeanPlusTwoSigma) {
  // Earlier: 100k, 300k, 100k, 300k: mean 200k, population stddev 100k.
  std::deque<double> at = {100'000, 300'000, 100'000, 300'000, 400'000};
  EXPECT_FALSE(is_spike(at, config)) << "exactly mean + 2 sigma is not above it";
  std::deque<double> above = {100'000, 300'000, 100'000, 300'000, 400'001};
  EXPECT_TRUE(is_spike(above, config));
}

TEST_F(AllocatorTest, SpikeNeedsMeanAboveTheHighThreshold) {
  // A quiet device (mean 50 kbit/s) jumping is not a spike: it just gets
  // classified by the thresholds.
  EXPECT_FALSE(is_spike({50'000, 50'000, 50'000, 50'000, 10'000'000}, config));
  EXPECT_FALSE(is_spike({80'000, 80'000, 80'000, 80'000, 10'000'000}, config)) << "mean equal to the threshold";
  EXPECT_TRUE(is_spike({80'001, 80'001, 80'001, 80'001, 10'000'000}, config));
}

TEST_F(AllocatorTest, SpikeDemotesAtOnceWithOneAlertPerSpike) {
  states[kDevice].priority = Priority::High;
  std::deque<double> window = {100'000, 100'000, 100'000, 100'000, 1'500'000};
  auto first = tick(window);
  EXPECT_EQ(priority(), Priority::Low) << "a spike demotes without hysteresis";
  int alerts = 0;
  for (const auto& e : first.events) alerts += e.level == EventLevel::Alert;
  EXPECT_EQ(alerts, 1);
  window.push_back(2'500'000);  // the spike goes on
  auto second = tick(window);
  for (const auto& e : second.events) EXPECT_NE(e.level, EventLevel::Alert) << "one ALERT per spike, not per tick";
  // The spike ends (rule no longer fires), then a new one starts: a new ALERT.
  auto calm = tick({100'000, 100'000, 100'000, 100'000, 100'000});
  (void)calm;
  auto again = tick({100'000, 100'000, 100'000, 100'000, 1'500'000});
  alerts = 0;
  for (const auto& e : again.events) alerts += e.level == EventLevel::Alert;
  EXPECT_EQ(alerts, 1);
}

TEST_F(AllocatorTest, BlockedAndManualDevicesAreNeverTouched) {
  states[kDevice].priority = Priority::Blocked;
  auto r = tick({10});
  EXPECT_EQ(priority(), Priority::Blocked);
  EXPECT_TRUE(r.events.empty());
  states[kDevice] = AllocatorState{Priority::Low, true};
  tick({10});
  EXPECT_EQ(priority(), Priority::Low);
  tick({100'000, 100'000, 100'000, 100'000, 9'000'000});
  EXPECT_EQ(priority(), Priority::Low);
  EXPECT_TRUE(states[kDevice].manual);
}

TEST_F(AllocatorTest, AutoModeOffChangesNothing) {
  config.auto_mode = false;
  states[kDevice].priority = Priority::Normal;
  auto r = tick({10});
  EXPECT_EQ(priority(), Priority::Normal);
  EXPECT_TRUE(r.events.empty());
}

}  // namespace
}  // namespace bwalloc
