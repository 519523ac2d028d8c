// The full-policy-map rules: a block takes the place of a device that is
// only limited, never of another block; a limit waits over capacity; the
// waiting policies are written again unless a newer request replaces them.
#include "agent/datapath/capacity_plan.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

IpAddress ip(uint32_t n) { return IpAddress::from_v4(0x0A000000u + n); }

DevicePolicy limited(uint32_t n, uint64_t down = 1'000'000) {
  return DevicePolicy{.address = ip(n), .priority = Priority::Normal, .down_rate_bits_per_sec = down};
}
DevicePolicy blocked(uint32_t n) { return DevicePolicy{.address = ip(n), .priority = Priority::Blocked}; }

TEST(CapacityPlan, ABlockDisplacesALimitedDevice) {
  PolicyByDevice held = {{ip(1), limited(1)}};
  auto displaced = plan_displacement(blocked(2), held);
  ASSERT_TRUE(displaced.has_value());
  EXPECT_EQ(*displaced, limited(1));  // the whole policy, so it can wait over capacity
}

TEST(CapacityPlan, ABlockNeverDisplacesAnotherBlock) {
  PolicyByDevice held = {{ip(1), blocked(1)}, {ip(3), blocked(3)}};
  EXPECT_EQ(plan_displacement(blocked(2), held), std::nullopt);
}

TEST(CapacityPlan, ABlockDisplacesTheLimitedDeviceAmongBlocks) {
  PolicyByDevice held = {{ip(1), blocked(1)}, {ip(3), limited(3)}, {ip(4), blocked(4)}};
  auto displaced = plan_displacement(blocked(2), held);
  ASSERT_TRUE(displaced.has_value());
  EXPECT_EQ(displaced->address, ip(3));
}

TEST(CapacityPlan, ALimitWaitsInsteadOfDisplacing) {
  PolicyByDevice held = {{ip(1), limited(1)}};
  EXPECT_EQ(plan_displacement(limited(2), held), std::nullopt);
  EXPECT_EQ(plan_displacement(DevicePolicy{.address = ip(2), .priority = Priority::High}, held), std::nullopt);
}

TEST(CapacityPlan, ABlockWaitsWhenNothingIsHeld) { EXPECT_EQ(plan_displacement(blocked(2), {}), std::nullopt); }

TEST(CapacityPlan, WaitingPoliciesAreWrittenBeforeTheRequests) {
  PolicyByDevice waiting = {{ip(1), limited(1)}};
  std::vector<DevicePolicy> writes = policies_to_write(waiting, {limited(2), blocked(3)});
  EXPECT_EQ(writes, (std::vector<DevicePolicy>{limited(1), limited(2), blocked(3)}));
}

TEST(CapacityPlan, ANewerRequestReplacesTheWaitingPolicy) {
  PolicyByDevice waiting = {{ip(1), limited(1)}, {ip(2), limited(2)}};
  std::vector<DevicePolicy> writes = policies_to_write(waiting, {blocked(1)});
  EXPECT_EQ(writes, (std::vector<DevicePolicy>{limited(2), blocked(1)}));
}

TEST(CapacityPlan, NothingWaitingWritesTheRequestsAsGiven) {
  EXPECT_EQ(policies_to_write({}, {limited(2), limited(1)}), (std::vector<DevicePolicy>{limited(2), limited(1)}));
  EXPECT_TRUE(policies_to_write({}, {}).empty());
}

TEST(CapacityPlan, OnlyTheExactPolicyCountsAsHeld) {
  PolicyByDevice held = {{ip(1), limited(1)}};
  EXPECT_TRUE(already_held(held, limited(1)));
  EXPECT_FALSE(already_held(held, limited(1, 2'000'000)));
  EXPECT_FALSE(already_held(held, blocked(1)));
  EXPECT_FALSE(already_held(held, limited(2)));
}

}  // namespace
}  // namespace bwalloc
