// Golden tests of the tc command builder: the exact argv vectors for each
// change a device can go through (its class, the priority and bulk
// children, their leaves with and without fq_codel, its two filters), port
// lists changed at run time in place, idempotence, slot and node reuse, and
// hostile or out-of-range input rejected before any command is planned.
#include <gtest/gtest.h>

#include <limits>
#include <set>

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
TcState installed_with(const std::vector<DevicePolicy>& devices, const TcShaperConfig& c = config()) {
  auto plan = tc_commands(TcState{}, devices, c);
  EXPECT_TRUE(plan.ok()) << plan.message();
  return plan->next;
}

std::vector<Argv> plan_from(const TcState& state, const std::vector<DevicePolicy>& wanted,
                            const TcShaperConfig& c = config()) {
  auto plan = tc_commands(state, wanted, c);
  EXPECT_TRUE(plan.ok()) << plan.message();
  return plan.ok() ? argvs(plan->commands) : std::vector<Argv>{};
}

// Argv on the ifb device instead of the LAN interface (upload matches the
// source address).
Argv on_ifb(Argv argv) {
  argv[4] = "bwalloc-ifb0";
  for (auto& word : argv) {
    if (word == "dst") word = "src";
  }
  return argv;
}

// 10.10.0.11 in slot 1 at 20 Mbit/s, download: the device's class holds all
// its traffic; the priority child (prio 0) is guaranteed a quarter of the
// limit, the bulk child (prio 1) the rest, both may borrow up to the limit.
// Its entry in the IPv4 priority table (40:, bucket 0xb = its last byte,
// node 1) takes its priority-port packets to the priority child, its entry
// in the IPv4 bulk table (80:) everything else to the bulk child.
const std::vector<Argv> kAddDown20 = {
    {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:11", "htb", "rate", "20000000bit", "ceil",
     "20000000bit", "quantum", "200000"},
    {"tc", "class", "add", "dev", "lan0", "parent", "1:11", "classid", "1:4001", "htb", "rate", "5000000bit", "ceil",
     "20000000bit", "prio", "0", "quantum", "62500"},
    {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:4001", "handle", "4001:", "bfifo", "limit", "250000"},
    {"tc", "class", "add", "dev", "lan0", "parent", "1:11", "classid", "1:8001", "htb", "rate", "15000000bit", "ceil",
     "20000000bit", "prio", "1", "quantum", "187500"},
    {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:8001", "handle", "8001:", "bfifo", "limit", "250000"},
    {"tc",    "filter", "add",   "dev",           "lan0",    "parent", "1:", "protocol",
     "ip",    "prio",   "15000", "handle",        "40:b:1",  "u32",    "ht", "40:b:",
     "match", "ip",     "dst",   "10.10.0.11/32", "classid", "1:4001"},
    {"tc",    "filter", "add",   "dev",           "lan0",    "parent", "1:", "protocol",
     "ip",    "prio",   "20000", "handle",        "80:b:1",  "u32",    "ht", "80:b:",
     "match", "ip",     "dst",   "10.10.0.11/32", "classid", "1:8001"},
};

std::vector<Argv> add_up20() {
  std::vector<Argv> out;
  for (const auto& a : kAddDown20) out.push_back(on_ifb(a));
  return out;
}

// Removal, one command per entry, children before their parent.
const std::vector<Argv> kRemoveDown = {
    {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20000", "handle", "80:b:1",
     "u32"},
    {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "15000", "handle", "40:b:1",
     "u32"},
    {"tc", "class", "del", "dev", "lan0", "parent", "1:11", "classid", "1:4001"},
    {"tc", "class", "del", "dev", "lan0", "parent", "1:11", "classid", "1:8001"},
    {"tc", "class", "del", "dev", "lan0", "parent", "1:", "classid", "1:11"},
};

std::vector<Argv> concat(std::initializer_list<std::vector<Argv>> parts) {
  std::vector<Argv> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// The port filters of TCP 53 on the LAN interface: IPv4 then IPv6, source
// then destination port, each a link into its family's priority table
// hashed on the low byte of the destination address.
const std::vector<Argv> kPriority53Down = {
    {"tc",     "filter", "add", "dev",      "lan0",   "parent",     "1:",    "protocol", "ip",   "prio",  "14000",
     "u32",    "match",  "ip",  "protocol", "6",      "0xff",       "match", "u8",       "0x05", "0x0f",  "at",
     "0",      "match",  "u16", "0x0000",   "0x1fff", "at",         "6",     "match",    "ip",   "sport", "53",
     "0xffff", "link",   "40:", "hashkey",  "mask",   "0x000000ff", "at",    "16"},
    {"tc",     "filter", "add", "dev",      "lan0",   "parent",     "1:",    "protocol", "ip",   "prio",  "14000",
     "u32",    "match",  "ip",  "protocol", "6",      "0xff",       "match", "u8",       "0x05", "0x0f",  "at",
     "0",      "match",  "u16", "0x0000",   "0x1fff", "at",         "6",     "match",    "ip",   "dport", "53",
     "0xffff", "link",   "40:", "hashkey",  "mask",   "0x000000ff", "at",    "16"},
    {"tc",    "filter", "add",   "dev", "lan0",     "parent", "1:",         "protocol", "ipv6", "prio",
     "14001", "u32",    "match", "ip6", "protocol", "6",      "0xff",       "match",    "ip6",  "sport",
     "53",    "0xffff", "link",  "41:", "hashkey",  "mask",   "0x000000ff", "at",       "36"},
    {"tc",    "filter", "add",   "dev", "lan0",     "parent", "1:",         "protocol", "ipv6", "prio",
     "14001", "u32",    "match", "ip6", "protocol", "6",      "0xff",       "match",    "ip6",  "dport",
     "53",    "0xffff", "link",  "41:", "hashkey",  "mask",   "0x000000ff", "at",       "36"},
};

// The same on the ifb device hashes on the source address.
Argv port_filter_on_ifb(Argv argv) {
  argv[4] = "bwalloc-ifb0";
  std::string& at = argv.back();
  at = at == "16" ? "12" : at == "36" ? "20" : at;
  return argv;
}

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
  std::vector<Argv> lan_tree = {
      {"tc", "qdisc", "add", "dev", "lan0", "root", "handle", "1:", "htb", "default", "1"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:1", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:2", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "class", "add", "dev", "lan0", "parent", "1:", "classid", "1:3", "htb", "rate", "1000000000bit", "ceil",
       "1000000000bit", "quantum", "200000"},
      {"tc", "qdisc", "add", "dev", "lan0", "parent", "1:3", "handle", "3:", "pfifo", "limit", "0"},
      // Every packet looks for its device in the block table first...
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "1000", "handle", "30:", "u32",
       "divisor", "256"},
      {"tc",    "filter", "add", "dev", "lan0", "parent", "1:",      "protocol", "ip",         "prio", "1000", "u32",
       "match", "u32",    "0",   "0",   "link", "30:",    "hashkey", "mask",     "0x000000ff", "at",   "16"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "1001", "handle", "31:", "u32",
       "divisor", "256"},
      {"tc",    "filter", "add", "dev", "lan0", "parent", "1:",      "protocol", "ipv6",       "prio", "1001", "u32",
       "match", "u32",    "0",   "0",   "link", "31:",    "hashkey", "mask",     "0x000000ff", "at",   "36"},
      // ...the priority tables are reached through the port filters only...
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "15000", "handle", "40:", "u32",
       "divisor", "256"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "15001", "handle",
       "41:", "u32", "divisor", "256"},
      // ...and every packet left looks for its device in the bulk table.
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20000", "handle", "80:", "u32",
       "divisor", "256"},
      {"tc",    "filter", "add", "dev", "lan0", "parent", "1:",      "protocol", "ip",         "prio", "20000", "u32",
       "match", "u32",    "0",   "0",   "link", "80:",    "hashkey", "mask",     "0x000000ff", "at",   "16"},
      {"tc", "filter", "add", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "20001", "handle",
       "81:", "u32", "divisor", "256"},
      {"tc",    "filter", "add", "dev", "lan0", "parent", "1:",      "protocol", "ipv6",       "prio", "20001", "u32",
       "match", "u32",    "0",   "0",   "link", "81:",    "hashkey", "mask",     "0x000000ff", "at",   "36"},
  };
  lan_tree.insert(lan_tree.end(), kPriority53Down.begin(), kPriority53Down.end());
  auto all = argvs(c);
  ASSERT_EQ(all.size(), 5 + 2 * lan_tree.size() + 2);
  for (size_t i = 0; i < lan_tree.size(); ++i) EXPECT_EQ(all[5 + i], lan_tree[i]) << i;
  // The ifb tree is the same tree on the other device, hashing on sources.
  for (size_t i = 0; i < lan_tree.size(); ++i) {
    EXPECT_EQ(all[5 + lan_tree.size() + i], port_filter_on_ifb(lan_tree[i])) << i;
  }
  EXPECT_EQ(all[all.size() - 2], (Argv{"tc", "qdisc", "add", "dev", "lan0", "handle", "ffff:", "ingress"}));
  EXPECT_EQ(all.back(), (Argv{"tc",     "filter", "add",    "dev",      "lan0",  "parent",      "ffff:", "protocol",
                              "all",    "prio",   "1",      "u32",      "match", "u32",         "0",     "0",
                              "action", "mirred", "egress", "redirect", "dev",   "bwalloc-ifb0"}));
  EXPECT_TRUE(plan->next.installed);
  EXPECT_TRUE(plan->next.devices.empty());
  EXPECT_EQ(plan->next.priority_ports, config().priority_ports);
  EXPECT_TRUE(plan->next.unlimited_ports.empty());
}

TEST(TcShaper, UnlimitedPortsGoToTheLinkRateClassBeforeThePriorityPorts) {
  TcShaperConfig c = config();
  c.unlimited_ports = {{6, 8443}};
  auto plan = tc_commands(TcState{}, {}, c);
  ASSERT_TRUE(plan.ok()) << plan.message();
  auto all = argvs(plan->commands);
  const std::vector<Argv> unlimited = {
      {"tc",    "filter", "add",      "dev", "lan0", "parent", "1:", "protocol", "ip",   "prio",   "10000",   "u32",
       "match", "ip",     "protocol", "6",   "0xff", "match",  "u8", "0x05",     "0x0f", "at",     "0",       "match",
       "u16",   "0x0000", "0x1fff",   "at",  "6",    "match",  "ip", "sport",    "8443", "0xffff", "classid", "1:2"},
      {"tc",    "filter", "add",      "dev", "lan0", "parent", "1:", "protocol", "ip",   "prio",   "10000",   "u32",
       "match", "ip",     "protocol", "6",   "0xff", "match",  "u8", "0x05",     "0x0f", "at",     "0",       "match",
       "u16",   "0x0000", "0x1fff",   "at",  "6",    "match",  "ip", "dport",    "8443", "0xffff", "classid", "1:2"},
      {"tc",    "filter", "add",      "dev", "lan0", "parent", "1:",  "protocol", "ipv6", "prio",   "10001",   "u32",
       "match", "ip6",    "protocol", "6",   "0xff", "match",  "ip6", "sport",    "8443", "0xffff", "classid", "1:2"},
      {"tc",    "filter", "add",      "dev", "lan0", "parent", "1:",  "protocol", "ipv6", "prio",   "10001",   "u32",
       "match", "ip6",    "protocol", "6",   "0xff", "match",  "ip6", "dport",    "8443", "0xffff", "classid", "1:2"},
  };
  // After the root, the three fixed classes, the blocked leaf and the six
  // tables with their links: the unlimited filters, then the priority ones.
  const size_t at = 5 + 5 + 10;
  ASSERT_GE(all.size(), at + 8);
  for (size_t i = 0; i < unlimited.size(); ++i) EXPECT_EQ(all[at + i], unlimited[i]) << i;
  for (size_t i = 0; i < kPriority53Down.size(); ++i) EXPECT_EQ(all[at + 4 + i], kPriority53Down[i]) << i;
  EXPECT_EQ(plan->next.unlimited_ports, c.unlimited_ports);
  // Unlimited ports change nothing about a device's own commands.
  EXPECT_EQ(plan_from(plan->next, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}, c),
            concat({kAddDown20, add_up20()}));
}

TEST(TcShaper, FirstDeviceGetsItsClassTwoChildrenTheirLeavesAndTwoFiltersEachWay) {
  auto state = installed_with({});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}),
            concat({kAddDown20, add_up20()}));
}

TEST(TcShaper, ADeviceCostsTheSameCommandsWhateverTheNumberOfPriorityPorts) {
  TcShaperConfig many = config();
  many.priority_ports = default_priority_ports();
  auto state = installed_with({}, many);
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}, many),
            concat({kAddDown20, add_up20()}));
}

TEST(TcShaper, FqCodelLeavesWhenTheKernelHasIt) {
  TcShaperConfig fq = config();
  fq.leaf = TcLeaf::FqCodel;
  auto state = installed_with({}, fq);
  auto planned = plan_from(state, {policy("10.10.0.11", Priority::Normal, 0, 20'000'000)}, fq);
  std::vector<Argv> expected = kAddDown20;
  // 100 ms at 20 Mbit/s is 250,000 bytes: 4x that in full frames, 8x in
  // memory; codel's defaults hold at this rate.
  expected[2] = {"tc",     "qdisc",  "add",      "dev",      "lan0",         "parent", "1:4001",
                 "handle", "4001:",  "fq_codel", "limit",    "660",          "flows",  "128",
                 "target", "5000us", "interval", "100000us", "memory_limit", "2000000"};
  expected[4] = {"tc",     "qdisc",  "add",      "dev",      "lan0",         "parent", "1:8001",
                 "handle", "8001:",  "fq_codel", "limit",    "660",          "flows",  "128",
                 "target", "5000us", "interval", "100000us", "memory_limit", "2000000"};
  EXPECT_EQ(planned, expected);

  // At 1 Mbit/s a full frame takes 12.1 ms: the target is 1.5 frame times
  // and the interval grows alike; the flow table is never changed.
  auto state2 = tc_commands(state, {policy("10.10.0.11", Priority::Normal, 0, 20'000'000)}, fq)->next;
  EXPECT_EQ(plan_from(state2, {policy("10.10.0.11", Priority::Low, 0, 1'000'000)}, fq),
            (std::vector<Argv>{
                {"tc", "class", "change", "dev", "lan0", "parent", "1:", "classid", "1:11", "htb", "rate", "1000000bit",
                 "ceil", "1000000bit", "quantum", "12500"},
                {"tc", "class", "change", "dev", "lan0", "parent", "1:11", "classid", "1:4001", "htb", "rate",
                 "250000bit", "ceil", "1000000bit", "prio", "0", "quantum", "3125"},
                {"tc", "class", "change", "dev", "lan0", "parent", "1:11", "classid", "1:8001", "htb", "rate",
                 "750000bit", "ceil", "1000000bit", "prio", "1", "quantum", "9375"},
                {"tc", "qdisc", "change", "dev", "lan0", "parent", "1:4001", "handle", "4001:", "fq_codel", "limit",
                 "128", "target", "18168us", "interval", "113168us", "memory_limit", "1048576"},
                {"tc", "qdisc", "change", "dev", "lan0", "parent", "1:8001", "handle", "8001:", "fq_codel", "limit",
                 "128", "target", "18168us", "interval", "113168us", "memory_limit", "1048576"},
            }));
  // The fixed tree is the same with either leaf.
  EXPECT_EQ(argvs(tc_commands(TcState{}, {}, fq)->commands), argvs(tc_commands(TcState{}, {}, config())->commands));
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

TEST(TcShaper, LimitChangeChangesTheClassesAndLeavesInPlace) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Low, 5'000'000, 20'000'000)}),
            (std::vector<Argv>{
                {"tc", "class", "change", "dev", "bwalloc-ifb0", "parent", "1:", "classid", "1:11", "htb", "rate",
                 "5000000bit", "ceil", "5000000bit", "quantum", "62500"},
                {"tc", "class", "change", "dev", "bwalloc-ifb0", "parent", "1:11", "classid", "1:4001", "htb", "rate",
                 "1250000bit", "ceil", "5000000bit", "prio", "0", "quantum", "15625"},
                {"tc", "class", "change", "dev", "bwalloc-ifb0", "parent", "1:11", "classid", "1:8001", "htb", "rate",
                 "3750000bit", "ceil", "5000000bit", "prio", "1", "quantum", "46875"},
                {"tc", "qdisc", "change", "dev", "bwalloc-ifb0", "parent", "1:4001", "handle", "4001:", "bfifo",
                 "limit", "62500"},
                {"tc", "qdisc", "change", "dev", "bwalloc-ifb0", "parent", "1:8001", "handle", "8001:", "bfifo",
                 "limit", "62500"},
            }));
}

TEST(TcShaper, BlockAddsTheDropFilterBeforeRemovingTheClasses) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  std::vector<Argv> remove_up;
  for (const auto& a : kRemoveDown) remove_up.push_back(on_ifb(a));
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Blocked, 0, 0)}),
            concat({{{"tc",    "filter", "add",  "dev",           "lan0",    "parent", "1:", "protocol",
                      "ip",    "prio",   "1000", "handle",        "30:b:1",  "u32",    "ht", "30:b:",
                      "match", "ip",     "dst",  "10.10.0.11/32", "classid", "1:3"}},
                    kRemoveDown,
                    {{"tc",    "filter", "add",  "dev",           "bwalloc-ifb0", "parent", "1:", "protocol",
                      "ip",    "prio",   "1000", "handle",        "30:b:1",       "u32",    "ht", "30:b:",
                      "match", "ip",     "src",  "10.10.0.11/32", "classid",      "1:3"}},
                    remove_up}));
}

TEST(TcShaper, UnblockRestoresTheClassesThenLiftsTheBlock) {
  auto state = installed_with({policy("10.10.0.11", Priority::Blocked, 0, 0)});
  EXPECT_EQ(plan_from(state, {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)}),
            concat({kAddDown20,
                    {{"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "1000", "handle",
                      "30:b:1", "u32"}},
                    add_up20(),
                    {{"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "1000",
                      "handle", "30:b:1", "u32"}}}));
}

TEST(TcShaper, RemovalDeletesEachFilterThenTheChildrenThenTheClass) {
  auto state = installed_with({policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)});
  std::vector<Argv> remove_up;
  for (const auto& a : kRemoveDown) remove_up.push_back(on_ifb(a));
  EXPECT_EQ(plan_from(state, {}), concat({kRemoveDown, remove_up}));
}

TEST(TcShaper, Ipv6DeviceHasItsEntriesInTheIpv6Tables) {
  auto state = installed_with({});
  auto planned = plan_from(state, {policy("fd00:10::12", Priority::Low, 0, 5'000'000)});
  ASSERT_EQ(planned.size(), 7u);
  EXPECT_EQ(planned[5],
            (Argv{"tc",   "filter",          "add",     "dev",     "lan0", "parent", "1:",     "protocol", "ipv6",
                  "prio", "15001",           "handle",  "41:12:1", "u32",  "ht",     "41:12:", "match",    "ip6",
                  "dst",  "fd00:10::12/128", "classid", "1:4001"}));
  EXPECT_EQ(planned[6],
            (Argv{"tc",   "filter",          "add",     "dev",     "lan0", "parent", "1:",     "protocol", "ipv6",
                  "prio", "20001",           "handle",  "81:12:1", "u32",  "ht",     "81:12:", "match",    "ip6",
                  "dst",  "fd00:10::12/128", "classid", "1:8001"}));
  auto next = tc_commands(state, {policy("fd00:10::12", Priority::Low, 0, 5'000'000)}, config())->next;
  auto removed = plan_from(next, {});
  ASSERT_EQ(removed.size(), 5u);
  EXPECT_EQ(removed[0], (Argv{"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "20001",
                              "handle", "81:12:1", "u32"}));
  EXPECT_EQ(removed[1], (Argv{"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "15001",
                              "handle", "41:12:1", "u32"}));
}

TEST(TcShaper, AddressesEndingInTheSameByteGetNodesOfTheirOwn) {
  auto state = installed_with({policy("10.10.0.11", Priority::Low, 1'000'000, 1'000'000),
                               policy("10.10.1.11", Priority::Low, 1'000'000, 1'000'000),
                               policy("fd00:10::b", Priority::Low, 1'000'000, 1'000'000)});
  EXPECT_EQ(state.devices.at(ip("10.10.0.11")).node, 1u);
  EXPECT_EQ(state.devices.at(ip("10.10.1.11")).node, 2u);
  EXPECT_EQ(state.devices.at(ip("fd00:10::b")).node, 1u) << "the IPv6 table has nodes of its own";
  // A freed node is taken again by the next address in its bucket.
  auto plan = tc_commands(
      state,
      {policy("10.10.1.11", Priority::Low, 1'000'000, 1'000'000), policy("192.168.5.11", Priority::Low, 0, 1'000'000)},
      config());
  ASSERT_TRUE(plan.ok()) << plan.message();
  EXPECT_EQ(plan->next.devices.at(ip("10.10.1.11")).node, 2u);
  EXPECT_EQ(plan->next.devices.at(ip("192.168.5.11")).node, 1u);
  bool added = false;
  for (const auto& c : plan->commands) {
    added = added || c.to_string() ==
                         "tc filter add dev lan0 parent 1: protocol ip prio 15000 handle 40:b:1 u32 ht "
                         "40:b: match ip dst 192.168.5.11/32 classid 1:4001";
  }
  EXPECT_TRUE(added);
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
  auto plan = tc_commands(
      state,
      {policy("10.10.0.12", Priority::Low, 1'000'000, 1'000'000), policy("10.10.0.99", Priority::Low, 0, 1'000'000)},
      config());
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan->next.devices.at(ip("10.10.0.12")).slot, 2u) << "a kept device keeps its slot";
  EXPECT_EQ(plan->next.devices.at(ip("10.10.0.99")).slot, 1u) << "the freed slot is reused";
  auto all = argvs(plan->commands);
  ASSERT_EQ(all.size(), 5u + 5u + 7u);
  EXPECT_EQ(all[0], (Argv{"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "20000",
                          "handle", "80:b:1", "u32"}));
  EXPECT_EQ(all[10][2], "add") << "the new device's class comes after the old one's removal";
  EXPECT_EQ(all[10][8], "1:11");
  EXPECT_EQ(all[16], (Argv{"tc",    "filter", "add",   "dev",           "lan0",    "parent", "1:", "protocol",
                           "ip",    "prio",   "20000", "handle",        "80:63:1", "u32",    "ht", "80:63:",
                           "match", "ip",     "dst",   "10.10.0.99/32", "classid", "1:8001"}));
}

TEST(TcShaper, PriorityPortsChangedAtRunTimeReplaceOnlyThePortFilters) {
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000),
                                            policy("10.10.0.12", Priority::Blocked, 0, 0)};
  auto state = installed_with(wanted);
  TcShaperConfig changed = config();
  changed.priority_ports = {{17, 123}};
  auto plan = tc_commands(state, wanted, changed);
  ASSERT_TRUE(plan.ok()) << plan.message();
  std::vector<Argv> down = {
      {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "14000"},
      {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "14001"},
      {"tc",     "filter", "add", "dev",      "lan0",   "parent",     "1:",    "protocol", "ip",   "prio",  "14000",
       "u32",    "match",  "ip",  "protocol", "17",     "0xff",       "match", "u8",       "0x05", "0x0f",  "at",
       "0",      "match",  "u16", "0x0000",   "0x1fff", "at",         "6",     "match",    "ip",   "sport", "123",
       "0xffff", "link",   "40:", "hashkey",  "mask",   "0x000000ff", "at",    "16"},
      {"tc",     "filter", "add", "dev",      "lan0",   "parent",     "1:",    "protocol", "ip",   "prio",  "14000",
       "u32",    "match",  "ip",  "protocol", "17",     "0xff",       "match", "u8",       "0x05", "0x0f",  "at",
       "0",      "match",  "u16", "0x0000",   "0x1fff", "at",         "6",     "match",    "ip",   "dport", "123",
       "0xffff", "link",   "40:", "hashkey",  "mask",   "0x000000ff", "at",    "16"},
      {"tc",    "filter", "add",   "dev", "lan0",     "parent", "1:",         "protocol", "ipv6", "prio",
       "14001", "u32",    "match", "ip6", "protocol", "17",     "0xff",       "match",    "ip6",  "sport",
       "123",   "0xffff", "link",  "41:", "hashkey",  "mask",   "0x000000ff", "at",       "36"},
      {"tc",    "filter", "add",   "dev", "lan0",     "parent", "1:",         "protocol", "ipv6", "prio",
       "14001", "u32",    "match", "ip6", "protocol", "17",     "0xff",       "match",    "ip6",  "dport",
       "123",   "0xffff", "link",  "41:", "hashkey",  "mask",   "0x000000ff", "at",       "36"},
  };
  std::vector<Argv> expected = down;
  for (const auto& a : down) expected.push_back(port_filter_on_ifb(a));
  EXPECT_EQ(argvs(plan->commands), expected) << "no teardown, no device command: blocks and limits stay";
  EXPECT_EQ(plan->next.priority_ports, changed.priority_ports);
  EXPECT_EQ(plan->next.devices, state.devices);
  EXPECT_TRUE(plan_from(plan->next, wanted, changed).empty());

  // To no priority port: only the deletions; back from none: only the adds.
  TcShaperConfig none = config();
  none.priority_ports = {};
  auto emptied = tc_commands(plan->next, wanted, none);
  ASSERT_TRUE(emptied.ok());
  EXPECT_EQ(argvs(emptied->commands),
            (std::vector<Argv>{down[0], down[1], port_filter_on_ifb(down[0]), port_filter_on_ifb(down[1])}));
  auto refilled = plan_from(emptied->next, wanted, config());
  std::vector<Argv> adds53 = kPriority53Down;
  for (const auto& a : kPriority53Down) adds53.push_back(port_filter_on_ifb(a));
  EXPECT_EQ(refilled, adds53);
}

TEST(TcShaper, UnlimitedPortsChangedAtRunTimeReplaceOnlyTheirFilters) {
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)};
  auto state = installed_with(wanted);
  TcShaperConfig with = config();
  with.unlimited_ports = {{17, 51820}};
  auto added = plan_from(state, wanted, with);
  ASSERT_EQ(added.size(), 8u) << "four filters a side, no deletion (there were none)";
  EXPECT_EQ(added[0], (Argv{"tc",   "filter", "add",   "dev",   "lan0",  "parent",   "1:",     "protocol", "ip",
                            "prio", "10000",  "u32",   "match", "ip",    "protocol", "17",     "0xff",     "match",
                            "u8",   "0x05",   "0x0f",  "at",    "0",     "match",    "u16",    "0x0000",   "0x1fff",
                            "at",   "6",      "match", "ip",    "sport", "51820",    "0xffff", "classid",  "1:2"}));
  EXPECT_EQ(added[4][4], "bwalloc-ifb0");
  auto next = tc_commands(state, wanted, with)->next;
  EXPECT_EQ(plan_from(next, wanted, config()),
            (std::vector<Argv>{
                {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ip", "prio", "10000"},
                {"tc", "filter", "del", "dev", "lan0", "parent", "1:", "protocol", "ipv6", "prio", "10001"},
                {"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ip", "prio", "10000"},
                {"tc", "filter", "del", "dev", "bwalloc-ifb0", "parent", "1:", "protocol", "ipv6", "prio", "10001"},
            }));
}

TEST(TcShaper, ThousandsOfDevicesShareTenFilterPrios) {
  // u32 gives each filter prio of a qdisc one of 2,047 ids: devices are
  // entries in tables, never prios of their own.
  std::vector<DevicePolicy> many;
  for (int i = 0; i < 3000; ++i) {
    const std::string address = "10.20." + std::to_string(i / 250) + "." + std::to_string(1 + i % 250);
    many.push_back(policy(address.c_str(), i % 3 == 0 ? Priority::Blocked : Priority::Low, 1'000'000, 1'000'000));
  }
  many.push_back(policy("fd00:10::77", Priority::Low, 1'000'000, 1'000'000));
  TcShaperConfig c = config();
  c.unlimited_ports = {{6, 8443}};
  auto plan = tc_commands(TcState{}, many, c);
  ASSERT_TRUE(plan.ok()) << plan.message();
  std::set<std::pair<std::string, std::string>> prios;
  for (const auto& command : plan->commands) {
    const auto& a = command.argv;
    if (a.size() > 10 && a[1] == "filter" && a[4] == "lan0" && a[6] == "1:") prios.insert({a[8], a[10]});
  }
  EXPECT_EQ(prios.size(), 10u);
  EXPECT_EQ(plan->next.devices.size(), 3001u);
  EXPECT_EQ(plan->next.devices.at(ip("10.20.11.250")).node, 12u) << "the 12th address ending in .250";
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
  for (const char* name :
       {"lan0; rm -rf /", "lan 0", "", "a-very-long-interface-name", "-lan0", "lan0\n", "$(reboot)", "..", "lan0/1"}) {
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
  for (ProtocolPort bad : {ProtocolPort{1, 53}, ProtocolPort{17, 0}}) {
    TcShaperConfig c = config();
    c.priority_ports = {bad};
    auto plan = tc_commands(TcState{}, {}, c);
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.message().find("priority port"), std::string::npos) << plan.message();
    c = config();
    c.unlimited_ports = {bad};
    plan = tc_commands(TcState{}, {}, c);
    ASSERT_FALSE(plan.ok());
    EXPECT_NE(plan.message().find("unlimited port"), std::string::npos) << plan.message();
  }

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
  auto mixed = tc_commands(state,
                           {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000),
                            policy("10.10.0.12", Priority::Normal, 0, std::numeric_limits<uint64_t>::max())},
                           config());
  EXPECT_FALSE(mixed.ok());
}

TEST(TcShaper, ShaperCommitsInvalidatesAndChangesPortsInPlace) {
  auto shaper = TcShaper::create(config());
  ASSERT_TRUE(shaper.ok());
  auto& s = **shaper;
  const std::vector<DevicePolicy> wanted = {policy("10.10.0.11", Priority::Normal, 20'000'000, 20'000'000)};
  auto first = s.plan(wanted);
  ASSERT_TRUE(first.ok());
  EXPECT_GT(first->size(), 14u);
  EXPECT_EQ(s.plan(wanted)->size(), first->size()) << "plan alone changes nothing";
  s.commit(wanted);
  EXPECT_TRUE(s.plan(wanted)->empty());
  s.invalidate();
  EXPECT_EQ(*s.plan(wanted), *first) << "after a failed run everything is rebuilt";
  s.commit(wanted);
  ASSERT_TRUE(s.update_ports({{17, 123}}, {{6, 8443}}).ok());
  auto changed = s.plan(wanted);
  ASSERT_TRUE(changed.ok());
  ASSERT_FALSE(changed->empty());
  EXPECT_EQ((*changed)[0].to_string().rfind("tc filter add dev lan0 parent 1: protocol ip prio 10000 u32", 0), 0u)
      << "the unlimited ports come first (there were none to delete)";
  bool has_123 = false, has_8443 = false;
  for (const auto& c : *changed) {
    EXPECT_EQ(c.argv[1], "filter") << "no teardown, no class: " << c.to_string();
    has_123 = has_123 || c.to_string().find("dport 123 0xffff link 40:") != std::string::npos;
    has_8443 = has_8443 || c.to_string().find("dport 8443 0xffff classid 1:2") != std::string::npos;
  }
  EXPECT_TRUE(has_123);
  EXPECT_TRUE(has_8443);
  s.commit(wanted);
  EXPECT_TRUE(s.plan(wanted)->empty());
  EXPECT_FALSE(s.update_ports({{6, 0}}, {}).ok());
  EXPECT_FALSE(s.update_ports({}, {{2, 80}}).ok());
  EXPECT_TRUE(s.plan(wanted)->empty()) << "a refused list changes nothing";
  auto teardown = s.teardown();
  EXPECT_EQ(teardown.size(), 3u);
  for (const auto& c : teardown) EXPECT_TRUE(c.may_fail);
}

TEST(TcShaper, FqCodelProbeUsesADeviceOfItsOwn) {
  const TcLeafProbe p = tc_fq_codel_probe("bwalloc-probe0");
  ASSERT_EQ(p.before.size(), 2u);
  EXPECT_EQ(p.before[0].argv, (Argv{"ip", "link", "del", "dev", "bwalloc-probe0"}));
  EXPECT_TRUE(p.before[0].may_fail);
  EXPECT_EQ(p.before[1].argv, (Argv{"ip", "link", "add", "name", "bwalloc-probe0", "type", "ifb"}));
  EXPECT_EQ(p.probe.argv, (Argv{"tc", "qdisc", "add", "dev", "bwalloc-probe0", "root", "handle", "1:", "fq_codel"}));
  EXPECT_FALSE(p.probe.may_fail);
  ASSERT_EQ(p.after.size(), 1u);
  EXPECT_EQ(p.after[0].argv, (Argv{"ip", "link", "del", "dev", "bwalloc-probe0"}));
  EXPECT_STREQ(tc_leaf_name(TcLeaf::FqCodel), "fq_codel");
  EXPECT_STREQ(tc_leaf_name(TcLeaf::Bfifo), "bfifo");
}

}  // namespace
}  // namespace bwalloc
