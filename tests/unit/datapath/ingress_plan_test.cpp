// The XDP-or-tc rule: "tc" never tries XDP, "auto" skips it on a veth (and
// says so in the log), everything else tries XDP.
#include "agent/datapath/ingress_plan.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(IngressPlan, TcModeNeverTriesXdp) {
  IngressPlan plan = plan_ingress(IngressAttachMode::TcOnly, "lan0", "ixgbe");
  EXPECT_FALSE(plan.try_xdp);
  EXPECT_FALSE(plan.log_note);  // the operator asked for it
  EXPECT_NE(plan.note.find("datapath.ingress_mode = \"tc\""), std::string::npos) << plan.note;
}

TEST(IngressPlan, AutoSkipsXdpOnAVethAndSaysHowToForceIt) {
  IngressPlan plan = plan_ingress(IngressAttachMode::Auto, "lan0", "veth");
  EXPECT_FALSE(plan.try_xdp);
  EXPECT_TRUE(plan.log_note);
  EXPECT_NE(plan.note.find("lan0"), std::string::npos) << plan.note;
  EXPECT_NE(plan.note.find("\"xdp-native\" forces XDP"), std::string::npos) << plan.note;
}

TEST(IngressPlan, AutoTriesXdpOnOtherDriversAndUnknownOnes) {
  EXPECT_TRUE(plan_ingress(IngressAttachMode::Auto, "lan0", "ixgbe").try_xdp);
  EXPECT_TRUE(plan_ingress(IngressAttachMode::Auto, "lan0", std::nullopt).try_xdp);
  EXPECT_TRUE(plan_ingress(IngressAttachMode::Auto, "lan0", "ixgbe").note.empty());
}

TEST(IngressPlan, ForcedXdpModesTryXdpEvenOnAVeth) {
  EXPECT_TRUE(plan_ingress(IngressAttachMode::XdpNative, "lan0", "veth").try_xdp);
  EXPECT_TRUE(plan_ingress(IngressAttachMode::XdpGeneric, "lan0", "veth").try_xdp);
}

}  // namespace
}  // namespace bwalloc
