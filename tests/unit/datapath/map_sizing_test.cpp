// The counter LRU's size: the devices, a quarter more for addresses without
// a policy, and the kernel's per-CPU free-list reserve (128 per CPU).
#include "agent/datapath/map_sizing.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace bwalloc {
namespace {

TEST(MapSizing, CountersHoldEveryDevicePlusAQuarterAndThePerCpuReserve) {
  EXPECT_EQ(counter_map_entries(16, 2), 16u + 4u + 256u);
  EXPECT_EQ(counter_map_entries(65536, 8), 65536u + 16384u + 1024u);
}

TEST(MapSizing, AnUnknownCpuCountCountsAsOne) {
  EXPECT_EQ(counter_map_entries(16, 0), 16u + 4u + 128u);
  EXPECT_EQ(counter_map_entries(16, -22), 16u + 4u + 128u);  // libbpf's -errno
}

TEST(MapSizing, TheSizeIsCappedAtTheKernelsLimit) { EXPECT_EQ(counter_map_entries(UINT32_MAX, 64), UINT32_MAX); }

}  // namespace
}  // namespace bwalloc
