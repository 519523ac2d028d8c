// Golden tests of the tc command builder: the exact argv vectors for each
// change a device can go through, idempotence, slot reuse, and hostile or
// out-of-range input rejected before any command is planned.
#include <gtest/gtest.h>

#include <limits>

#include "agent/fallback/tc_shaper.h"

namespace bwalloc {
namespace {

using Argv = std::vector<std::string>;

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

TcShaperConfig config() {
  TcShaperConfig c;
  c.lan_interface = "lan0";
  c.ifb_interface = "bwalloc-ifb0";
  c.priority_ports = {{6, 53}};
  c.link_bits_per_sec = 1'000'000'000;
  return c;
}

DevicePolicy policy(const char* address, Priority priority, uint64_t up, uint64_t down) {
  return DevicePolicy{ip(address), priority, up, down, false};
}

std::vector<Argv> argvs(const std::vector<Command>& commands) {
  std::vector<Argv> out;
  for (const auto& c : commands) out.push_back(c.argv);
  return out;
}

// A state whose fixed tree is installed, holding `devices`.
TcState installed_with(const std::vector<DevicePolicy>& devices) {
  auto plan = tc_commands(TcState{}, devices, config());
  EXPECT_TRUE(plan.ok()) << plan.message();
  return plan->next;
}

std::vector<Argv> plan_from(const TcState& state, const std::vector<DevicePolicy>& wanted) {
  auto plan = tc_commands(state, wanted, config());
  EXPECT_TRUE(plan.ok()) << plan.message();
  return plan.ok() ? argvs(plan->commands) : std::vector<Argv>{};
}

const Argv kAddDown20 = {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:11", "htb", "rate",
                         "20000000bit", "ceil", "20000000bit", "quantum", "200000"};
const Argv kLeafDown20 = {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:11", "handle", "11:", "bfifo", "limit", "250000"};
const Argv kFilterDown = {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20001",
                          "u32", "match", "ip", "dst", "10.10.0.11/32", "classid", "1:11"};
const Argv kAddUp20 = {"tc", "class", "add", "dev", "bwalloc-ifb0", "parent", "1:", "classid", "1:11", "htb", "rate",
                       "20000000bit", "ceil", "20000000bit", "quantum", "200000"};
const Argv kLeafUp20 = {"tc", "qdisc", "add", "dev", "bwalloc-ifb0", "parent", "1:11", "handle", "11:", "bfifo", "limit", "250000"};
const Argv kFilterUp = {"tc", "filter", "add", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "20001",
                        "u32", "match", "ip", "src", "10.10.0.11/32", "classid", "1:11"};

TEST(TcShaper, FirstPlanClearsLeftoversAndBuildsTheFixedTree) {
  auto plan = tc_commands(TcState{}, {}, config());
  ASSERT_TRUE(plan.ok()) << plan.message();
  const auto& c = plan->commands;
  ASSERT_GE(c.size(), 5u);
  EXPECT_EQ(c[0].argv, (Argv{"tc", "qdisc", "del", "dev", "lan0", "root"}));
  EXPECT_EQ(c[1].argv, (Argv{"tc", "qdisc", "del", "dev", "lan0", "ingress"}));
  EXPECT_EQ(c[2].argv, (Argv{"ip", "link", "del", "dev", "bwalloc-ifb0"}));
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(c[i].may_fail);
  for (size_t i = 3; i < c.size(); ++i) EXPECT_FALSE(c[i].may_fail) << c[i].to_string();
  EXPECT_EQ(c[3].argv, (Argv{"ip", "link", "add", "name", "bwalloc-ifb0", "type", "ifb"}));
  EXPECT_EQ(c[4].argv, (Argv{"ip", "link", "set", "dev", "bwalloc-ifb0", "up"}));
  const std::vector<Argv> lan_tree = {
      {"tc", "qdisc", "add", "dev", "lan0", "root", "handle", "1:", "htb", "default", "1"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:1", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:2", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:3", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:3", "handle", "3:", "pfifo", "limit", "0"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "10000", "u32", "match", "ip",
       "protocol", "6", "0xff", "match", "u8", "0x05", "0x0f", "at", "0", "match", "u16", "0x0000", "0x1fff", "at", "6",
       "match", "ip", "sport", "53", "0xffff", "classid", "1:2"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "10000", "u32", "match", "ip",
       "protocol", "6", "0xff", "match", "u8", "0x05", "0x0f", "at", "0", "match", "u16", "0x0000", "0x1fff", "at", "6",
       "match", "ip", "dport", "53", "0xffff", "classid", "1:2"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "10001", "u32", "match", "ip6",
       "protocol", "6", "0xff", "match", "ip6", "sport", "53", "0xffff", "classid", "1:2"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "10001", "u32", "match", "ip6",
       "protocol", "6", "0xff", "match", "ip6", "dport", "53", "0xffff", "classid", "1:2"},
  };
  auto all = argvs(c);
  ASSERT_EQ(all.size(), 5 + 2 * lan_tree.size() + 2);
  for (size_t i = 0; i < lan_tree.size(); ++i) EXPECT_EQ(all[5 + i], lan_tree[i]) << i;
  // The ifb tree is the same tree on the other device.
  for (size_t i = 0; i < lan_tree.size(); ++i) {
    Argv on_ifb = lan_tree[i];
    on_ifb[4] = "bwalloc-ifb0";
    EXPECT_EQ(all[5 + lan_tree.size() + i], on_ifb) << i;
  }
  EXPECT_EQ(all[all.size() - 2], (Argv{"tc", "qdisc", "add", "dev", "lan0", "handle", "ffff:", "ingress"}));
  EXPECT_EQ(all.back(), (Argv{"tc", "filter", "add", "dev", "lan0", "parent", "ffff:", "protocol", "all", "prio", "1",
                              "u32", "match", "u32", "0", "0", "action", "mirred", "egress", "redirect", "dev",
                              "bwalloc-ifb0"}));
  EXPECT_TRUE(plan->next.installed);
  EXPECT_TRUE(plan->next.devices.empty());
}

TEST(TcShaper, FirstDeviceGetsAClassLeafAndFilterEachWay) {
  auto state = installed_with({});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}),
            (std::vector<Argv>{kAddDown20, kLeafDown20, kFilterDown, kAddUp20, kLeafUp20, kFilterUp}));
}

TEST(TcShaper, ReapplyingTheSamePoliciesPlansNothing) {
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000),
                                            policy("10.10.0.12", Priority::Blocked, 0, 0),
                                            policy("fd00:10::13", Priority::Low, 5'000'000, 5'000'000)};
  auto state = installed_with(wanted);
  EXPECT_TRUE(plan_from(state, wanted).empty());
  // Order does not matter either.
  EXPECT_TRUE(plan_from(state, {wanted[2], wanted[0], wanted[1]}).empty());
}

TEST(TcShaper, LimitChangeChangesClassAndLeafInPlace) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Low, 5'000'000, 20'000'000)}),
            (std::vector<Argv>{
                {"tc", "class", "change", "dev", "bwalloc-ifb0", "parent", "1:", "classid", "1:11", "htb", "rate",
                 "5000000bit", "ceil", "5000000bit", "quantum", "62500"},
                {"tc", "qdisc", "change", "dev", "bwalloc-ifb0", "parent", "1:11", "handle", "11:", "bfifo", "limit",
                 "62500"},
            }));
}

TEST(TcShaper, BlockAddsTheDropFilterBeforeRemovingTheClass) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Blocked, 0, 0)}),
            (std::vector<Argv>{
                {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "1001", "u32", "match",
                 "ip", "dst", "10.10.0.11/32", "classid", "1:3"},
                {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20001"},
                {"tc", "class", "del", "dev", "lan0", "parent", "1:", "classid", "1:11"},
                {"tc", "filter", "add", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "1001", "u32",
                 "match", "ip", "src", "10.10.0.11/32", "classid", "1:3"},
                {"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "20001"},
                {"tc", "class", "del", "dev", "bwalloc-ifb0", "parent", "1:", "classid", "1:11"},
            }));
}

TEST(TcShaper, UnblockRestoresTheClassThenLiftsTheBlock) {
  auto state = installed_with({policy("10.10.0.11", Priority::Blocked, 0, 0)});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}),
            (std::vector<Argv>{
                kAddDown20, kLeafDown20, kFilterDown,
                {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "1001"},
                kAddUp20, kLeafUp20, kFilterUp,
                {"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "1001"},
            }));
}

TEST(TcShaper, RemovalDeletesFilterThenClass) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  EXPECT_EQ(plan_from(state, {}),
            (std::vector<Argv>{
                {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20001"},
                {"tc", "class", "del", "dev", "lan0", "parent", "1:", "classid", "1:11"},
                {"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "20001"},
                {"tc", "class", "del", "dev", "bwalloc-ifb0", "parent", "1:", "classid", "1:11"},
            }));
}

TEST(TcShaper, Ipv6DeviceMatchesItsIpv6Address) {
  auto state = installed_with({});
  auto planned = plan_from(state, {policy("fd00:10::12", Priority::Low, 0, 5'000'000)});
  EXPECT_EQ(planned,
            (std::vector<Argv>{
                {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:11", "htb", "rate", "5000000bit",
                 "ceil", "5000000bit", "quantum", "62500"},
                {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:11", "handle", "11:", "bfifo", "limit", "62500"},
                {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "20001", "u32",
                 "match", "ip6", "dst", "fd00:10::12/128", "classid", "1:11"},
            }));
}

TEST(TcShaper, UnlimitedAndExemptAllDevicesGetNoClass) {
  auto state = installed_with({});
  DevicePolicy exempt = policy("10.10.0.14", Priority::Normal, 20'000'000, 20'000'000);
  exempt.exempt_all = true;
  EXPECT_TRUE(plan_from(state, {policy("10.10.0.13", Priority::High, 0, 0), exempt}).empty());
}

TEST(TcShaper, SlotsAreStableAndAFreedSlotIsReusedAfterItsRemoval) {
  auto state = installed_with({policy("10.10.0.11", Priority::Low, 1'000'000, 1'000'000),
                               policy("10.10.0.12", Priority::Low, 1'000'000, 1'000'000)});
  EXPECT_EQ(state.devices.at(ip("10.10.0.11")).slot, 1u);
  EXPECT_EQ(state.devices.at(ip("10.10.0.12")).slot, 2u);
  auto plan = tc_commands(state, {policy("10.10.0.12", Priority::Low, 1'000'000, 1'000'000),
                                  policy("10.10.0.99", Priority::Low, 0, 1'000'000)},
                          config());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->next.devices.at(ip("10.10.0.12")).slot, 2u) << "a kept device keeps its slot";
  EXPECT_EQ(plan->next.devices.at(ip("10.10.0.99")).slot, 1u) << "the freed slot is reused";
  auto all = argvs(plan->commands);
  ASSERT_EQ(all.size(), 7u);
  EXPECT_EQ(all[0], (Argv{"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20001"}));
  EXPECT_EQ(all[4][2], "add") << "the new device's class comes after the old one's removal";
  EXPECT_EQ(all[6], (Argv{"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20001",
                          "u32", "match", "ip", "dst", "10.10.0.99/32", "classid", "1:11"}));
}

TEST(TcShaper, TooManyDevicesIsAClearError) {
  TcShaperConfig small = config();
  small.max_devices = 2;
  std::vector<DevicePolicy> three = {policy("10.10.0.1", Priority::Low, 1'000'000, 1'000'000),
                                     policy("10.10.0.2", Priority::Low, 1'000'000, 1'000'000),
                                     policy("10.10.0.3", Priority::Low, 1'000'000, 1'000'000)};
  auto plan = tc_commands(TcState{}, three, small);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.message().find("at most 2 devices"), std::string::npos) << plan.message();
  small.max_devices = kTcMaxDevices + 1;
  EXPECT_FALSE(validate_tc_config(small).ok());
}

TEST(TcShaper, HostileOrOutOfRangeInputIsRejected) {
  for (const char* name : {"lan0; rm -rf /", "lan 0", "", "a-very-long-interface-name", "-lan0", "lan0\n", "$(reboot)",
                           "..", "lan0/1"}) {
    TcShaperConfig c = config();
    c.lan_interface = name;
    auto plan = tc_commands(TcState{}, {}, c);
    EXPECT_FALSE(plan.ok()) << "LAN interface \"" << name << "\" was accepted";
    c = config();
    c.ifb_interface = name;
    EXPECT_FALSE(tc_commands(TcState{}, {}, c).ok()) << "ifb \"" << name << "\" was accepted";
  }
  TcShaperConfig same = config();
  same.ifb_interface = "lan0";
  EXPECT_FALSE(tc_commands(TcState{}, {}, same).ok());
  for (uint64_t link : {uint64_t{0}, uint64_t{999}, std::numeric_limits<uint64_t>::max()}) {
    TcShaperConfig c = config();
    c.link_bits_per_sec = link;
    EXPECT_FALSE(tc_commands(TcState{}, {}, c).ok()) << link;
  }
  TcShaperConfig bad_port = config();
  bad_port.priority_ports = {{1, 53}};
  EXPECT_FALSE(tc_commands(TcState{}, {}, bad_port).ok());
  bad_port.priority_ports = {{17, 0}};
  EXPECT_FALSE(tc_commands(TcState{}, {}, bad_port).ok());

  auto state = installed_with({});
  for (uint64_t rate : {uint64_t{1}, uint64_t{999}, std::numeric_limits<uint64_t>::max(), kTcMaxBitsPerSec + 1}) {
    auto plan = tc_commands(state, {policy("10.10.0.11", Priority::Normal, rate, 20'000'000)}, config());
    EXPECT_FALSE(plan.ok()) << rate;
  }
  for (const char* address : {"0.0.0.0", "255.255.255.255", "224.0.0.1", "ff02::1", "fe80::1", "::1", "127.0.0.1"}) {
    auto plan = tc_commands(state, {policy(address, Priority::Normal, 20'000'000, 20'000'000)}, config());
    EXPECT_FALSE(plan.ok()) << address;
  }
  // A bad policy among good ones: nothing at all is planned.
  auto mixed = tc_commands(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000),
                                   policy("10.10.0.12", Priority::Normal, 0, std::numeric_limits<uint64_t>::max())},
                           config());
  EXPECT_FALSE(mixed.ok());
}

TEST(TcShaper, ShaperCommitsInvalidatesAndRebuildsOnProtocolPortChange) {
  auto shaper = TcShaper::create(config());
  ASSERT_TRUE(shaper.ok());
  auto& s = **shaper;
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)};
  auto first = s.plan(wanted);
  ASSERT_TRUE(first.ok());
  EXPECT_GT(first->size(), 6u);
  EXPECT_EQ(s.plan(wanted)->size(), first->size()) << "plan alone changes nothing";
  s.commit(wanted);
  EXPECT_TRUE(s.plan(wanted)->empty());
  s.invalidate();
  EXPECT_EQ(*s.plan(wanted), *first) << "after a failed run everything is rebuilt";
  s.commit(wanted);
  ASSERT_TRUE(s.update_priority_ports({{17, 123}}).ok());
  auto rebuilt = s.plan(wanted);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ((*rebuilt)[0].argv, (Argv{"tc", "qdisc", "del", "dev", "lan0", "root"}));
  bool has_123 = false;
  for (const auto& c : *rebuilt) has_123 = has_123 || c.to_string().find("dport 123 0xffff") != std::string::npos;
  EXPECT_TRUE(has_123);
  EXPECT_FALSE(s.update_priority_ports({{6, 0}}).ok());
  auto teardown = s.teardown();
  EXPECT_EQ(teardown.size(), 3u);
  for (const auto& c : teardown) EXPECT_TRUE(c.may_fail);
}

}  // namespace
}  // namespace bwalloc
