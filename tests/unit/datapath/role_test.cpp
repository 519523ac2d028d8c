// The role table: the LAN carries XDP (with its link pin) and both tc hooks,
// the WAN only tc egress; names, state keys and config interfaces per role.
#include "agent/datapath/role.h"

#include <gtest/gtest.h>

#include <string>

#include "agent/datapath/datapath_state.h"

namespace bwalloc {
namespace {

TEST(Role, TheLanCountsBothWaysAndMayUseXdp) {
  const RoleHooks& lan = hooks_of(Role::Lan);
  EXPECT_STREQ(lan.name, "lan");
  EXPECT_STREQ(lan.xdp_program, "bwa_xdp_ingress");
  EXPECT_STREQ(lan.xdp_link_pin, "link_xdp_lan");
  ASSERT_EQ(lan.tc.size(), 2u);
  EXPECT_EQ(lan.tc[0].direction, TcDirection::Ingress);
  EXPECT_STREQ(lan.tc[0].program, "bwa_tc_ingress");
  EXPECT_EQ(lan.tc[1].direction, TcDirection::Egress);
  EXPECT_STREQ(lan.tc[1].program, "bwa_tc_egress");
}

TEST(Role, TheWanOnlyShapesEgress) {
  const RoleHooks& wan = hooks_of(Role::Wan);
  EXPECT_STREQ(wan.name, "wan");
  EXPECT_EQ(wan.xdp_program, nullptr);
  EXPECT_EQ(wan.xdp_link_pin, nullptr);
  ASSERT_EQ(wan.tc.size(), 1u);
  EXPECT_EQ(wan.tc[0].direction, TcDirection::Egress);
  EXPECT_STREQ(wan.tc[0].program, "bwa_tc_wan_egress");
}

TEST(Role, EachRoleHasItsConfiguredInterface) {
  DatapathConfig config{.lan_interface = "br-lan", .wan_interface = ""};
  EXPECT_EQ(interface_of(config, Role::Lan), "br-lan");
  EXPECT_EQ(interface_of(config, Role::Wan), "");
}

// detach (maybe a newer build) reads the keys an older agent wrote.
TEST(Role, StateKeysKeepTheirNames) {
  EXPECT_EQ(clsact_created_key(Role::Lan), "clsact_created.lan");
  EXPECT_EQ(qdisc_installed_key(Role::Wan), "qdisc_installed.wan");
  EXPECT_EQ(qdisc_previous_key(Role::Lan), "qdisc_previous.lan");
  EXPECT_EQ(qdisc_previous_handle_key(Role::Wan), "qdisc_previous_handle.wan");
  EXPECT_EQ(datapath_state_path(DatapathConfig{.state_dir = "/run/x"}), "/run/x/datapath.state");
}

// The kernel cuts program names at 15 characters; the status names ours whole.
TEST(Role, ProgramNamesCutByTheKernelAreMadeWholeFromTheTable) {
  EXPECT_EQ(full_program_name("bwa_tc_wan_egre"), "bwa_tc_wan_egress");
  EXPECT_EQ(full_program_name("bwa_xdp_ingress"), "bwa_xdp_ingress");
  EXPECT_EQ(full_program_name("bwa_tc_egress"), "bwa_tc_egress");
  EXPECT_EQ(full_program_name("someone_elses_p"), "someone_elses_p");
}

TEST(Role, PerRoleValuesAreKeptApart) {
  PerRole<int> ifindex;
  EXPECT_EQ(ifindex[Role::Lan], 0);
  ifindex[Role::Wan] = 7;
  EXPECT_EQ(ifindex[Role::Lan], 0);
  EXPECT_EQ(ifindex[Role::Wan], 7);
}

}  // namespace
}  // namespace bwalloc
