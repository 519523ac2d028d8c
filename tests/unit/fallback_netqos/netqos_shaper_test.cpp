// NetQosShaper behind the CommandShaper interface: the first plan clears
// leftovers, re-planning what was committed yields nothing, devices no
// longer listed are unshaped, and a failed run makes the next plan rebuild.
#include "agent/fallback/netqos_shaper.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

DevicePolicy policy(const char* address, uint64_t up, uint64_t down, Priority p = Priority::Normal) {
  auto a = IpAddress::parse(address);
  EXPECT_TRUE(a.ok()) << address;
  return DevicePolicy{a.ok() ? *a : IpAddress{}, p, up, down, false};
}

std::vector<std::string> texts(const std::vector<Command>& commands) {
  std::vector<std::string> out;
  for (const auto& c : commands) out.push_back(c.to_string());
  return out;
}

const std::string kPs = "powershell.exe -NoProfile -NonInteractive -Command ";
const std::string kClear =
    kPs +
    "Get-NetQosPolicy -PolicyStore ActiveStore | Where-Object Name -like 'bwalloc-*' | Remove-NetQosPolicy "
    "-Confirm:$false";

TEST(NetQosShaper, FirstPlanClearsLeftoversThenAdds) {
  NetQosShaper shaper;
  EXPECT_EQ(shaper.name(), "netqos");
  auto plan = shaper.plan({policy("10.10.0.2", 0, 2'000'000)});
  ASSERT_TRUE(plan.ok()) << plan.message();
  EXPECT_EQ(texts(*plan),
            (std::vector<std::string>{
                kClear, kPs + "New-NetQosPolicy -Name 'bwalloc-10.10.0.2-down' -IPDstPrefixMatchCondition "
                              "10.10.0.2/32 -ThrottleRateActionBitsPerSecond 2000000 -PolicyStore "
                              "ActiveStore -ErrorAction Stop"}));
  EXPECT_TRUE((*plan)[0].may_fail);
  EXPECT_FALSE((*plan)[1].may_fail);
}

TEST(NetQosShaper, ReplanningTheCommittedPoliciesYieldsNothing) {
  NetQosShaper shaper;
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.2", 1'000'000, 2'000'000),
                                            policy("10.10.0.3", 0, 0, Priority::Blocked)};
  ASSERT_TRUE(shaper.plan(wanted).ok());
  shaper.commit(wanted);
  auto again = shaper.plan(wanted);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(again->empty()) << testing::PrintToString(texts(*again));
}

TEST(NetQosShaper, DevicesNoLongerListedAreUnshaped) {
  NetQosShaper shaper;
  shaper.commit({policy("10.10.0.2", 1'000'000, 0), policy("10.10.0.3", 0, 8'000)});
  auto plan = shaper.plan({policy("10.10.0.3", 0, 8'000)});
  ASSERT_TRUE(plan.ok()) << plan.message();
  EXPECT_EQ(texts(*plan),
            (std::vector<std::string>{kPs + "Remove-NetQosPolicy -Name 'bwalloc-10.10.0.2-up' "
                                            "-PolicyStore ActiveStore -Confirm:$false -ErrorAction Stop"}));
}

TEST(NetQosShaper, AfterAFailedRunTheNextPlanRebuildsEverything) {
  NetQosShaper shaper;
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.2", 1'000'000, 0)};
  shaper.commit(wanted);
  shaper.invalidate();
  auto plan = shaper.plan(wanted);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 2u);
  EXPECT_EQ((*plan)[0].to_string(), kClear);
  EXPECT_NE((*plan)[1].to_string().find("New-NetQosPolicy -Name 'bwalloc-10.10.0.2-up'"), std::string::npos);
}

TEST(NetQosShaper, BadPolicyFailsTheWholePlan) {
  NetQosShaper shaper;
  shaper.commit({});
  auto plan = shaper.plan({policy("10.10.0.2", 1'000'000, 0), policy("224.0.0.1", 1'000'000, 0)});
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.message().find("224.0.0.1"), std::string::npos) << plan.message();
}

TEST(NetQosShaper, ChangesOfManyDevicesShareOnePowerShellRun) {
  NetQosShaper shaper;
  shaper.commit({policy("10.10.0.9", 8'000, 8'000)});
  auto plan = shaper.plan({policy("10.10.0.2", 1'000'000, 2'000'000), policy("10.10.0.3", 0, 0, Priority::Blocked)});
  ASSERT_TRUE(plan.ok()) << plan.message();
  ASSERT_EQ(plan->size(), 1u);
  EXPECT_EQ((*plan)[0].to_string(),
            kPs +
                "Remove-NetQosPolicy -Name 'bwalloc-10.10.0.9-down' -PolicyStore ActiveStore -Confirm:$false "
                "-ErrorAction Stop ; Remove-NetQosPolicy -Name 'bwalloc-10.10.0.9-up' -PolicyStore ActiveStore "
                "-Confirm:$false -ErrorAction Stop ; New-NetQosPolicy -Name 'bwalloc-10.10.0.2-down' "
                "-IPDstPrefixMatchCondition 10.10.0.2/32 -ThrottleRateActionBitsPerSecond 2000000 -PolicyStore "
                "ActiveStore -ErrorAction Stop ; New-NetQosPolicy -Name 'bwalloc-10.10.0.2-up' "
                "-IPSrcPrefixMatchCondition 10.10.0.2/32 -ThrottleRateActionBitsPerSecond 1000000 -PolicyStore "
                "ActiveStore -ErrorAction Stop ; New-NetQosPolicy -Name 'bwalloc-10.10.0.3-down' "
                "-IPDstPrefixMatchCondition 10.10.0.3/32 -ThrottleRateActionBitsPerSecond 8000 -PolicyStore "
                "ActiveStore -ErrorAction Stop ; New-NetQosPolicy -Name 'bwalloc-10.10.0.3-up' "
                "-IPSrcPrefixMatchCondition 10.10.0.3/32 -ThrottleRateActionBitsPerSecond 8000 -PolicyStore "
                "ActiveStore -ErrorAction Stop");
}

TEST(NetQosShaper, TeardownClearsAndForgets) {
  NetQosShaper shaper;
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.2", 1'000'000, 0)};
  shaper.commit(wanted);
  EXPECT_EQ(texts(shaper.teardown()), (std::vector<std::string>{kClear}));
  auto plan = shaper.plan(wanted);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->size(), 2u);  // clear + add again
}

}  // namespace
}  // namespace bwalloc
