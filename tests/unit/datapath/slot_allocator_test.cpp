// SlotAllocator: stable slots, lowest-free reuse, the 1..max-1 range, and
// recovery of assignments adopted from the kernel's policy map.
#include "agent/datapath/slot_allocator.h"

#include <gtest/gtest.h>

#include <set>

#include "bwalloc_maps.h"

namespace bwalloc {
namespace {

IpAddress ip(uint32_t n) { return IpAddress::from_v4(0x0A000000u + n); }

TEST(SlotAllocator, HandsOutSlotsFromOneAndKeepsThemStable) {
  SlotAllocator slots(BWA_MAX_SLOTS);
  EXPECT_EQ(slots.assign(ip(1)), 1u);
  EXPECT_EQ(slots.assign(ip(2)), 2u);
  EXPECT_EQ(slots.assign(ip(1)), 1u);  // asking again changes nothing
  EXPECT_EQ(slots.slot_of(ip(2)), 2u);
  EXPECT_EQ(slots.slot_of(ip(3)), std::nullopt);
  EXPECT_EQ(slots.assigned(), 2u);
}

TEST(SlotAllocator, ReusesTheLowestFreedSlotFirst) {
  SlotAllocator slots(BWA_MAX_SLOTS);
  for (uint32_t n = 1; n <= 5; ++n) ASSERT_EQ(slots.assign(ip(n)), n);
  slots.release(ip(4));
  slots.release(ip(2));
  EXPECT_EQ(slots.slot_of(ip(2)), std::nullopt);
  EXPECT_EQ(slots.assign(ip(10)), 2u);
  EXPECT_EQ(slots.assign(ip(11)), 4u);
  EXPECT_EQ(slots.assign(ip(12)), 6u);
  slots.release(ip(99));  // unknown device: nothing happens
  EXPECT_EQ(slots.assigned(), 6u);
}

TEST(SlotAllocator, NeverHandsOutZeroOrTheLimitAndSaysWhenFull) {
  SlotAllocator slots(4);  // slots 1, 2, 3
  std::set<uint32_t> given;
  for (uint32_t n = 1; n <= 3; ++n) {
    auto slot = slots.assign(ip(n));
    ASSERT_TRUE(slot.has_value());
    given.insert(*slot);
  }
  EXPECT_EQ(given, (std::set<uint32_t>{1, 2, 3}));
  EXPECT_EQ(slots.assign(ip(4)), std::nullopt);
  slots.release(ip(2));
  EXPECT_EQ(slots.assign(ip(4)), 2u);
}

TEST(SlotAllocator, FullRangeHoldsMaxSlotsMinusOneDevices) {
  SlotAllocator slots(BWA_MAX_SLOTS);
  for (uint32_t n = 1; n < BWA_MAX_SLOTS; ++n) ASSERT_EQ(slots.assign(ip(n)), n);
  EXPECT_EQ(slots.assign(ip(BWA_MAX_SLOTS)), std::nullopt);
}

TEST(SlotAllocator, RestoresAdoptedAssignmentsAndWorksAroundThem) {
  SlotAllocator slots(BWA_MAX_SLOTS);
  EXPECT_TRUE(slots.restore(ip(1), 3));
  EXPECT_TRUE(slots.restore(ip(2), 1));
  EXPECT_TRUE(slots.restore(ip(2), 1));   // same pair again: consistent
  EXPECT_FALSE(slots.restore(ip(3), 3));  // slot taken by another device
  EXPECT_FALSE(slots.restore(ip(1), 7));  // device already holds a slot
  EXPECT_FALSE(slots.restore(ip(4), 0));  // 0 means "no slot"
  EXPECT_FALSE(slots.restore(ip(4), BWA_MAX_SLOTS));
  EXPECT_EQ(slots.slot_of(ip(1)), 3u);
  // New devices get the free slots around the restored ones.
  EXPECT_EQ(slots.assign(ip(5)), 2u);
  EXPECT_EQ(slots.assign(ip(6)), 4u);
  // A restored slot above the high-water mark is reused after release.
  slots.release(ip(1));
  EXPECT_EQ(slots.assign(ip(7)), 3u);
}

TEST(SlotAllocator, RestoreOfAFreedSlotIsNotHandedOutTwice) {
  SlotAllocator slots(BWA_MAX_SLOTS);
  ASSERT_EQ(slots.assign(ip(1)), 1u);
  ASSERT_EQ(slots.assign(ip(2)), 2u);
  slots.release(ip(1));
  EXPECT_TRUE(slots.restore(ip(3), 1));
  EXPECT_EQ(slots.assign(ip(4)), 3u);
}

}  // namespace
}  // namespace bwalloc
