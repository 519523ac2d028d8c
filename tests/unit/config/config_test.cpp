// Configuration: defaults are the original's, units parse as an operator
// writes them, every bad value or unknown key names its file and line, and
// command-line overrides win.
#include <gtest/gtest.h>

#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"

namespace bwalloc {
namespace {

TEST(Config, DefaultsFollowTheOriginalAndValidate) {
  Config c;
  EXPECT_TRUE(validate(c).ok());
  EXPECT_EQ(c.allocator.high_below_bits_per_sec, 80'000u) << "20,000 bytes per 2 s tick";
  EXPECT_EQ(c.allocator.low_above_bits_per_sec, 2'000'000u) << "500,000 bytes per 2 s tick";
  EXPECT_EQ(c.rates.high_bits_per_sec, 100'000'000u);
  EXPECT_EQ(c.rates.normal_bits_per_sec, 20'000'000u);
  EXPECT_EQ(c.rates.low_bits_per_sec, 5'000'000u);
  EXPECT_EQ(c.http.bind, "127.0.0.1");
  EXPECT_EQ(c.datapath.priority_ports.size(), 8u);
}

TEST(Config, UnitsParse) {
  EXPECT_EQ(*parse_rate_bits("20Mbit"), 20'000'000u);
  EXPECT_EQ(*parse_rate_bits("80kbit"), 80'000u);
  EXPECT_EQ(*parse_rate_bits("1.5Gbit"), 1'500'000'000u);
  EXPECT_FALSE(parse_rate_bits("20MB").ok());
  EXPECT_FALSE(parse_rate_bits("-5Mbit").ok());
  EXPECT_EQ(parse_duration("20ms")->count(), 20);
  EXPECT_EQ(parse_duration("24h")->count(), 86'400'000);
  EXPECT_EQ(parse_duration("7d")->count(), 7 * 86'400'000);
  EXPECT_FALSE(parse_duration("soon").ok());
}

TEST(Config, FileSetsValues) {
  auto c = parse_config(R"(
[datapath]
lan_interface = "br-lan"
horizon = "30ms"
priority_tcp_ports = [22, 443]
[rates]
low = "2Mbit"
[allocator]
tick = "2s"
)",
                        "test.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->datapath.lan_interface, "br-lan");
  EXPECT_EQ(c->datapath.horizon_ns, 30'000'000u);
  EXPECT_EQ(c->rates.low_bits_per_sec, 2'000'000u);
  EXPECT_EQ(c->allocator.tick.count(), 2000);
  int tcp = 0;
  for (auto& p : c->datapath.priority_ports) tcp += p.protocol == 6;
  EXPECT_EQ(tcp, 2);
}

TEST(Config, PriorityPortsAreNotUnlimitedAndNothingIsUnlimitedByDefault) {
  Config defaults;
  EXPECT_EQ(defaults.datapath.priority_ports.size(), 8u) << "53, 22, 443, 123 over TCP and UDP";
  EXPECT_TRUE(defaults.datapath.unlimited_ports.empty()) << "an unlimited port voids every limit: opt-in only";
  auto c = parse_config("[datapath]\nunlimited_tcp_ports = [8443]\n", "u.toml");
  ASSERT_TRUE(c.ok()) << c.message();
  ASSERT_EQ(c->datapath.unlimited_ports.size(), 1u);
  EXPECT_EQ(c->datapath.unlimited_ports[0], (ProtocolPort{6, 8443}));
  EXPECT_EQ(c->datapath.priority_ports.size(), 8u) << "the priority list is a separate setting";
}

TEST(Config, OldExemptKeysAreReadAsPriorityPortsWithAWarning) {
  testing::internal::CaptureStderr();
  auto c = parse_config("[datapath]\nexempt_udp_ports = [53]\n", "old.toml");
  const std::string log = testing::internal::GetCapturedStderr();
  ASSERT_TRUE(c.ok()) << c.message();
  int udp = 0;
  for (auto& p : c->datapath.priority_ports) udp += p.protocol == 17;
  EXPECT_EQ(udp, 1);
  EXPECT_TRUE(c->datapath.unlimited_ports.empty()) << "exempt no longer means unlimited";
  EXPECT_NE(log.find("datapath.priority_udp_ports"), std::string::npos) << "the warning names the new key: " << log;
  Config runtime;
  ASSERT_TRUE(apply_override(runtime, "datapath.exempt_tcp_ports=[22]", true).ok())
      << "saved settings use the old name";
  EXPECT_EQ(find_config_key("datapath.exempt_tcp_ports"), nullptr) << "not listed in --help or the README";
}

TEST(Config, ErrorsNameFileAndLine) {
  auto unknown = parse_config("[datapath]\nlan_interface = \"lan0\"\nlan_iface = \"x\"\n", "/etc/bwalloc/bwalloc.toml");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("/etc/bwalloc/bwalloc.toml:3"), std::string::npos) << unknown.message();
  EXPECT_NE(unknown.message().find("unknown setting 'datapath.lan_iface'"), std::string::npos) << unknown.message();

  auto bad = parse_config("[rates]\n\nlow = \"fast\"\n", "f.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("f.toml:3"), std::string::npos) << bad.message();
  EXPECT_NE(bad.message().find("20Mbit"), std::string::npos) << "says what is accepted: " << bad.message();

  auto syntax = parse_config("[rates\n", "s.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.message().find("s.toml:1"), std::string::npos) << syntax.message();

  auto port = parse_config("[http]\nport = 70000\n", "p.toml");
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.message().find("p.toml:2"), std::string::npos);

  auto cross = parse_config("[allocator]\nhigh_below = \"5Mbit\"\n", "c.toml");
  ASSERT_FALSE(cross.ok());
  EXPECT_NE(cross.message().find("must be below allocator.low_above"), std::string::npos) << cross.message();
}

TEST(Config, MissingDefaultFileMeansDefaultsButAnExplicitOneIsAnError) {
  EXPECT_TRUE(load_config_file("/nonexistent/bwalloc.toml", false).ok());
  auto required = load_config_file("/nonexistent/bwalloc.toml", true);
  ASSERT_FALSE(required.ok());
  EXPECT_NE(required.message().find("/nonexistent/bwalloc.toml"), std::string::npos);
}

TEST(Config, OverridesWinAndAreValidated) {
  Config c;
  ASSERT_TRUE(apply_override(c, "datapath.lan_interface=eth1").ok()) << "a bare word is a string";
  EXPECT_EQ(c.datapath.lan_interface, "eth1");
  ASSERT_TRUE(apply_override(c, "rates.low=\"1Mbit\"").ok());
  EXPECT_EQ(c.rates.low_bits_per_sec, 1'000'000u);
  ASSERT_TRUE(apply_override(c, "http.port=9090").ok());
  EXPECT_EQ(c.http.port, 9090);
  auto bad = apply_override(c, "allocator.demotion_ticks=0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("--set allocator.demotion_ticks=0"), std::string::npos) << bad.message();
  EXPECT_EQ(c.allocator.demotion_ticks, 3) << "a failed override changes nothing";
  EXPECT_FALSE(apply_override(c, "no_equals_sign").ok());
}

TEST(Config, RuntimeChangesAreAllOrNothing) {
  Config c;
  auto changed = with_changes(c, {{"rates.low", "\"3Mbit\""}, {"store.path", "\"/tmp/x.db\""}}, true);
  ASSERT_FALSE(changed.ok()) << "store.path cannot change at run time";
  EXPECT_NE(changed.message().find("store.path"), std::string::npos);
  auto ok = with_changes(c, {{"rates.low", "\"3Mbit\""}, {"allocator.auto_mode", "false"}}, true);
  ASSERT_TRUE(ok.ok()) << ok.message();
  EXPECT_EQ(ok->rates.low_bits_per_sec, 3'000'000u);
  EXPECT_FALSE(ok->allocator.auto_mode);
}

TEST(Config, RenderedConfigParsesBackToTheSame) {
  Config c;
  c.rates.low_bits_per_sec = 7'000'000;
  c.datapath.horizon_ns = 40'000'000;
  auto again = parse_config(render_config(c), "rendered");
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(render_config(*again), render_config(c));
}

}  // namespace
}  // namespace bwalloc
