// The agent's side of the programs' per-CPU policy copies: after writing
// policies it changes bwa_settings.policy_generation, and nothing else in
// the settings, on a real settings map.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <unistd.h>

#include "agent/datapath/ebpf_maps.h"
#include "bwalloc_maps.h"

namespace bwalloc {
namespace {

class PolicyGenerationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root (bpf())";
    fd_ = bpf_map_create(BPF_MAP_TYPE_ARRAY, "bwa_settings", sizeof(uint32_t), sizeof(bwa_settings), 1, nullptr);
    if (fd_ < 0) GTEST_SKIP() << "cannot create an array map on this kernel";
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }
  bwa_settings read() {
    bwa_settings s{};
    uint32_t zero = 0;
    EXPECT_EQ(bpf_map_lookup_elem(fd_, &zero, &s), 0);
    return s;
  }
  int fd_ = -1;
};

TEST_F(PolicyGenerationTest, BumpChangesOnlyTheGeneration) {
  bwa_settings s{20'000'000, 2'000'000, BWA_SETTING_ECN, BWA_LAYOUT_VERSION, 41, 0};
  uint32_t zero = 0;
  ASSERT_EQ(bpf_map_update_elem(fd_, &zero, &s, BPF_ANY), 0);
  EXPECT_EQ(next_policy_generation(fd_), 42u);
  ASSERT_TRUE(bump_policy_generation(fd_).ok());
  bwa_settings after = read();
  EXPECT_EQ(after.policy_generation, 42u);
  EXPECT_EQ(after.horizon_ns, 20'000'000u);
  EXPECT_EQ(after.ce_target_ns, 2'000'000u);
  EXPECT_EQ(after.flags, BWA_SETTING_ECN);
  EXPECT_EQ(after.layout_version, static_cast<uint32_t>(BWA_LAYOUT_VERSION));
  { PolicyGenerationBump on_scope_exit(fd_); }
  EXPECT_EQ(read().policy_generation, 43u);
}

TEST_F(PolicyGenerationTest, AnUnreadableMapIsAnError) {
  EXPECT_FALSE(bump_policy_generation(-1).ok());
  EXPECT_EQ(next_policy_generation(-1), 1u);
}

}  // namespace
}  // namespace bwalloc
