// Golden tests of the NetQos command builder: the exact argv for each case,
// idempotent re-application, remove-before-add on a change, Blocked as the
// minimum throttle, and hostile input refused before any command exists.
#include "agent/fallback/netqos_command_builder.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace bwalloc {
namespace {

using Argv = std::vector<std::string>;

IpAddress ip(const char* text) {
  auto a = IpAddress::parse(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : IpAddress{};
}

DevicePolicy limited(const char* address, uint64_t up, uint64_t down, Priority p = Priority::Normal) {
  return DevicePolicy{ip(address), p, up, down, false};
}

std::vector<Argv> argvs(const std::vector<NetQosStep>& steps) {
  std::vector<Argv> out;
  for (const auto& s : steps) out.push_back(s.argv);
  return out;
}

const Argv kNewDown = {"powershell.exe",
                       "-NoProfile",
                       "-NonInteractive",
                       "-Command",
                       "New-NetQosPolicy",
                       "-Name",
                       "'bwalloc-10.10.0.2-down'",
                       "-IPDstPrefixMatchCondition",
                       "10.10.0.2/32",
                       "-ThrottleRateActionBitsPerSecond",
                       "5000000",
                       "-PolicyStore",
                       "ActiveStore",
                       "-ErrorAction",
                       "Stop"};
const Argv kNewUp = {"powershell.exe",
                     "-NoProfile",
                     "-NonInteractive",
                     "-Command",
                     "New-NetQosPolicy",
                     "-Name",
                     "'bwalloc-10.10.0.2-up'",
                     "-IPSrcPrefixMatchCondition",
                     "10.10.0.2/32",
                     "-ThrottleRateActionBitsPerSecond",
                     "1000000",
                     "-PolicyStore",
                     "ActiveStore",
                     "-ErrorAction",
                     "Stop"};
const Argv kRemoveDown = {
    "powershell.exe",           "-NoProfile",   "-NonInteractive", "-Command",        "Remove-NetQosPolicy", "-Name",
    "'bwalloc-10.10.0.2-down'", "-PolicyStore", "ActiveStore",     "-Confirm:$false", "-ErrorAction",        "Stop"};
const Argv kRemoveUp = {"powershell.exe",      "-NoProfile",      "-NonInteractive",        "-Command",
                        "Remove-NetQosPolicy", "-Name",           "'bwalloc-10.10.0.2-up'", "-PolicyStore",
                        "ActiveStore",         "-Confirm:$false", "-ErrorAction",           "Stop"};

TEST(NetQosBuilder, NewDeviceGetsBothDirectionsExactly) {
  auto steps = plan_netqos_apply({}, {limited("10.10.0.2", 1'000'000, 5'000'000)});
  ASSERT_TRUE(steps.ok()) << steps.message();
  EXPECT_EQ(argvs(*steps), (std::vector<Argv>{kNewDown, kNewUp}));
  EXPECT_EQ((*steps)[0].throttle_after, 5'000'000u);
  EXPECT_EQ((*steps)[1].direction, Direction::Up);
}

TEST(NetQosBuilder, Ipv6UsesA128Prefix) {
  auto steps = plan_netqos_apply({}, {limited("fd00:10::2", 0, 2'000'000)});
  ASSERT_TRUE(steps.ok()) << steps.message();
  EXPECT_EQ(argvs(*steps),
            (std::vector<Argv>{{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "New-NetQosPolicy",
                                "-Name", "'bwalloc-fd00:10::2-down'", "-IPDstPrefixMatchCondition", "fd00:10::2/128",
                                "-ThrottleRateActionBitsPerSecond", "2000000", "-PolicyStore", "ActiveStore",
                                "-ErrorAction", "Stop"}}));
}

TEST(NetQosBuilder, ReapplyingTheSamePoliciesYieldsNoCommands) {
  const std::vector<DevicePolicy> wanted = {limited("10.10.0.2", 1'000'000, 5'000'000), limited("10.10.0.3", 0, 0),
                                            limited("fd00:10::9", 8'000, 9'999)};
  NetQosState state;
  auto first = plan_netqos_apply(state, wanted);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_EQ(first->size(), 4u);  // 10.10.0.3 is unlimited: no policy at all
  for (const auto& step : *first) apply_netqos_step(state, step);
  EXPECT_EQ(state.size(), 2u);
  auto second = plan_netqos_apply(state, wanted);
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_TRUE(second->empty());
}

TEST(NetQosBuilder, AChangedRateIsRemovedBeforeItIsAddedAgain) {
  NetQosState state{{ip("10.10.0.2"), NetQosThrottles{1'000'000, 1'000'000}}};
  auto steps = plan_netqos_apply(state, {limited("10.10.0.2", 1'000'000, 5'000'000)});
  ASSERT_TRUE(steps.ok()) << steps.message();
  EXPECT_EQ(argvs(*steps), (std::vector<Argv>{kRemoveDown, kNewDown}));
  for (const auto& step : *steps) apply_netqos_step(state, step);
  EXPECT_EQ(state.at(ip("10.10.0.2")), (NetQosThrottles{1'000'000, 5'000'000}));
}

TEST(NetQosBuilder, GoingUnlimitedRemovesThePolicies) {
  NetQosState state{{ip("10.10.0.2"), NetQosThrottles{1'000'000, 5'000'000}}};
  auto steps = plan_netqos_apply(state, {limited("10.10.0.2", 0, 0)});
  ASSERT_TRUE(steps.ok()) << steps.message();
  EXPECT_EQ(argvs(*steps), (std::vector<Argv>{kRemoveDown, kRemoveUp}));
  for (const auto& step : *steps) apply_netqos_step(state, step);
  EXPECT_TRUE(state.empty());
}

TEST(NetQosBuilder, BlockedIsTheMinimumThrottleBothWays) {
  // NetQos cannot drop, so Blocked is the slowest throttle whatever the rates say.
  auto t = netqos_throttles(limited("10.10.0.2", 0, 0, Priority::Blocked));
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(*t, (NetQosThrottles{kNetQosMinBitsPerSec, kNetQosMinBitsPerSec}));
  DevicePolicy blocked_exempt{ip("10.10.0.2"), Priority::Blocked, 0, 0, true};
  EXPECT_EQ(*netqos_throttles(blocked_exempt), (NetQosThrottles{8'000, 8'000}));
  auto steps = plan_netqos_apply({}, {limited("10.10.0.2", 0, 0, Priority::Blocked)});
  ASSERT_TRUE(steps.ok());
  ASSERT_EQ(steps->size(), 2u);
  EXPECT_EQ((*steps)[0].argv[10], "8000");
  EXPECT_EQ((*steps)[1].argv[10], "8000");
}

TEST(NetQosBuilder, RatesAreWholeBytesAndAtLeastTheMinimum) {
  EXPECT_EQ(*netqos_throttles(limited("10.10.0.2", 1'000'007, 100)), (NetQosThrottles{1'000'000, 8'000}));
  DevicePolicy exempt{ip("10.10.0.2"), Priority::High, 1'000'000, 1'000'000, true};
  EXPECT_EQ(*netqos_throttles(exempt), NetQosThrottles{});
}

TEST(NetQosBuilder, RatesOutOfBoundsAreRefused) {
  auto t = netqos_throttles(limited("10.10.0.2", kNetQosMaxBitsPerSec + 8, 1'000'000));
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("10.10.0.2 upload rate"), std::string::npos) << t.message();
  EXPECT_FALSE(
      plan_netqos_apply({}, {limited("10.10.0.3", 1'000'000, 1'000'000), limited("10.10.0.2", 1'000'000, UINT64_MAX)})
          .ok());
  EXPECT_FALSE(netqos_new_command(ip("10.10.0.2"), Direction::Up, 7'999).ok());
  EXPECT_FALSE(netqos_new_command(ip("10.10.0.2"), Direction::Up, 1'000'001).ok());
  EXPECT_FALSE(netqos_new_command(ip("10.10.0.2"), Direction::Up, kNetQosMaxBitsPerSec + 8).ok());
}

TEST(NetQosBuilder, NonDeviceAddressesAreRefused) {
  for (const char* bad : {"0.0.0.0", "127.0.0.1", "224.0.0.1", "255.255.255.255", "::", "::1", "ff02::1", "fe80::1"}) {
    EXPECT_FALSE(plan_netqos_apply({}, {limited(bad, 1'000'000, 1'000'000)}).ok()) << bad;
    EXPECT_FALSE(netqos_remove_command(ip(bad), Direction::Down).ok()) << bad;
  }
}

TEST(NetQosBuilder, TwoPoliciesForOneDeviceAreRefused) {
  auto steps = plan_netqos_apply({}, {limited("10.10.0.2", 8'000, 8'000), limited("10.10.0.2", 16'000, 16'000)});
  ASSERT_FALSE(steps.ok());
  EXPECT_NE(steps.message().find("two policies"), std::string::npos);
}

TEST(NetQosBuilder, RemoveTakesOnlyWhatIsHeld) {
  NetQosState state{{ip("10.10.0.2"), NetQosThrottles{std::nullopt, 5'000'000}}};
  EXPECT_EQ(argvs(plan_netqos_remove(state, ip("10.10.0.2"))), (std::vector<Argv>{kRemoveDown}));
  EXPECT_TRUE(plan_netqos_remove(state, ip("10.10.0.3")).empty());
}

TEST(NetQosBuilder, PolicyNamesRoundTripAndHostileNamesAreRefused) {
  auto parsed = parse_netqos_policy_name("bwalloc-fd00:10::2-up");
  ASSERT_TRUE(parsed.ok()) << parsed.message();
  EXPECT_EQ(parsed->first, ip("fd00:10::2"));
  EXPECT_EQ(parsed->second, Direction::Up);
  EXPECT_TRUE(parse_netqos_policy_name("bwalloc-10.10.0.2-down").ok());
  for (const char* hostile :
       {"bwalloc-10.10.0.2'; Remove-NetQosPolicy -Name * -Confirm:$false; '-down", "bwalloc-$(calc.exe)-up",
        "bwalloc-`calc`-up", "bwalloc-10.10.0.2\n-down", "bwalloc-10.10.0.2-down\n", "bwalloc-10.10.0.2;-up",
        "bwalloc-host.lan-up", "bwalloc-FD00:10::2-up", "bwalloc-fd00:0010::2-up", "bwalloc-10.10.0.2-sideways",
        "other-10.10.0.2-up", "bwalloc-10.10.0.2 -up", "bwalloc-\"10.10.0.2\"-up", "bwalloc--up"}) {
    EXPECT_FALSE(parse_netqos_policy_name(hostile).ok()) << hostile;
  }
}

TEST(NetQosBuilder, HostileAddressTextNeverBecomesAnAddress) {
  // The builder takes IpAddress only; these are what an attacker could send
  // in an API path or a lease file, and none of them parses.
  for (const char* hostile : {"10.10.0.2'; calc; '", "10.10.0.2;calc", "$(calc)", "`calc`", "10.10.0.2\ncalc",
                              "10.10.0.2/32", "'10.10.0.2'", "10.10.0.2 -Confirm"}) {
    EXPECT_FALSE(IpAddress::parse(hostile).ok()) << hostile;
  }
}

TEST(NetQosBuilder, TokenWhitelist) {
  for (const char* safe :
       {"powershell.exe", "-NoProfile", "'bwalloc-10.10.0.2-down'", "fd00:10::2/128", "-Confirm:$false", "8000"}) {
    EXPECT_TRUE(netqos_token_is_safe(safe)) << safe;
  }
  for (const char* unsafe : {"", "'", "''", "'a'b'", "a;b", "$(calc)", "`calc`", "a b", "a\nb", "a|b", "a&b", "{calc}",
                             "\"x\"", "-Confirm:$true", "$env:PATH", "a\tb", "'a\rb'", "a,b", "@(1)"}) {
    EXPECT_FALSE(netqos_token_is_safe(unsafe)) << unsafe;
  }
  EXPECT_FALSE(netqos_token_is_safe(std::string(129, 'a')));
}

TEST(NetQosBuilder, BatchesJoinCmdletsIntoFewPowerShellRuns) {
  const Argv prefix = {"powershell.exe", "-NoProfile", "-NonInteractive", "-Command"};
  auto batches = netqos_batches({kNewDown, kNewUp, kRemoveDown});
  ASSERT_EQ(batches.size(), 1u);
  Argv expected = kNewDown;
  expected.push_back(";");
  expected.insert(expected.end(), kNewUp.begin() + 4, kNewUp.end());
  expected.push_back(";");
  expected.insert(expected.end(), kRemoveDown.begin() + 4, kRemoveDown.end());
  EXPECT_EQ(batches[0], expected);
  EXPECT_TRUE(netqos_batches({}).empty());
  // A short limit: each cmdlet in a run of its own, unchanged.
  EXPECT_EQ(netqos_batches({kNewDown, kNewUp}, 100), (std::vector<Argv>{kNewDown, kNewUp}));
  // Joined until the next one would not fit.
  size_t one = 0;
  for (const auto& token : kRemoveDown) one += token.size() + 1;
  auto two_per_run = netqos_batches({kRemoveDown, kRemoveDown, kRemoveDown}, 2 * one - 30);
  ASSERT_EQ(two_per_run.size(), 2u);
  EXPECT_EQ(std::count(two_per_run[0].begin(), two_per_run[0].end(), ";"), 1);
  EXPECT_EQ(two_per_run[1], kRemoveDown);
}

TEST(NetQosBuilder, EveryBuiltTokenIsSafe) {
  NetQosState state{{ip("fd00:10::2"), NetQosThrottles{8'000, 16'000}}};
  auto steps = plan_netqos_apply(state, {limited("fd00:10::2", 800'000, 8'000'000, Priority::Low),
                                         limited("192.168.1.254", 1, UINT64_C(999'999'999'999))});
  ASSERT_TRUE(steps.ok()) << steps.message();
  EXPECT_EQ(steps->size(), 6u);
  for (const auto& step : *steps) {
    for (const auto& token : step.argv) EXPECT_TRUE(netqos_token_is_safe(token)) << token;
  }
}

}  // namespace
}  // namespace bwalloc
