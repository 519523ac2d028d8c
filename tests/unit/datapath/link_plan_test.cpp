// The interface rules: renamed away is released, deleted is released and
// reported, back under the configured name (new ifindex or renamed back)
// is attached, lost programs are re-attached, nothing changed does nothing.
#include "agent/datapath/link_plan.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(LinkPlan, UnchangedInterfaceNeedsNothing) {
  LinkPlan plan = plan_link({"lan0", 7, 7, "lan0", {}});
  EXPECT_FALSE(plan.release_old);
  EXPECT_FALSE(plan.attach);
  EXPECT_TRUE(plan.message.empty());
}

TEST(LinkPlan, LostProgramsAreReattachedInPlace) {
  LinkPlan plan = plan_link({"lan0", 7, 7, "lan0", {"tc ingress"}});
  EXPECT_FALSE(plan.release_old);
  EXPECT_TRUE(plan.attach);
  EXPECT_NE(plan.message.find("tc ingress"), std::string::npos) << plan.message;
}

TEST(LinkPlan, RenamedAwayIsNoLongerOurs) {
  LinkPlan plan = plan_link({"lan0", 0, 7, "lan9", {}});
  EXPECT_TRUE(plan.release_old);
  EXPECT_FALSE(plan.attach);
  EXPECT_TRUE(plan.problem);
  EXPECT_NE(plan.message.find("renamed to lan9"), std::string::npos) << plan.message;
}

TEST(LinkPlan, DeletedIsReleasedAndReported) {
  LinkPlan plan = plan_link({"wan0", 0, 9, "", {}});
  EXPECT_TRUE(plan.release_old);
  EXPECT_TRUE(plan.problem);
  EXPECT_NE(plan.message.find("deleted"), std::string::npos) << plan.message;
}

TEST(LinkPlan, RecreatedWithANewIfindexIsAttachedThere) {
  LinkPlan plan = plan_link({"lan0", 12, 7, "", {}});
  EXPECT_TRUE(plan.release_old) << "the stale XDP link pin of ifindex 7 must go";
  EXPECT_TRUE(plan.attach);
  EXPECT_FALSE(plan.problem);
  EXPECT_NE(plan.message.find("ifindex 12"), std::string::npos) << plan.message;
}

TEST(LinkPlan, RenamedBackIsAttachedAgain) {
  LinkPlan plan = plan_link({"lan0", 7, 0, "", {}});  // released when it was renamed away
  EXPECT_FALSE(plan.release_old);
  EXPECT_TRUE(plan.attach);
}

TEST(LinkPlan, StillMissingSaysNothingNew) {
  LinkPlan plan = plan_link({"lan0", 0, 0, "", {}});
  EXPECT_FALSE(plan.release_old);
  EXPECT_FALSE(plan.attach);
  EXPECT_TRUE(plan.message.empty());
}

}  // namespace
}  // namespace bwalloc
