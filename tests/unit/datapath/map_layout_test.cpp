// layout_mismatch: a pinned map is adopted only when type, key and value
// sizes, entry count and (for settings) the layout version all match.
#include "agent/datapath/map_layout.h"

#include <linux/bpf.h>
#include <gtest/gtest.h>

#include "bwalloc_maps.h"

namespace bwalloc {
namespace {

const MapLayout kCounters{BPF_MAP_TYPE_LRU_PERCPU_HASH, sizeof(bwa_addr), sizeof(bwa_counters), 65536};

TEST(MapLayout, IdenticalLayoutIsAdopted) {
  EXPECT_EQ(layout_mismatch(kCounters, kCounters), std::nullopt);
  MapLayout settings{BPF_MAP_TYPE_ARRAY, 4, sizeof(bwa_settings), 1};
  EXPECT_EQ(layout_mismatch(settings, settings, BWA_LAYOUT_VERSION), std::nullopt);
}

TEST(MapLayout, EachDifferenceIsNamed) {
  MapLayout found = kCounters;
  found.type = BPF_MAP_TYPE_PERCPU_HASH;
  auto why = layout_mismatch(kCounters, found);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("map type"), std::string::npos) << *why;

  found = kCounters;
  found.key_size = 4;
  why = layout_mismatch(kCounters, found);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("key size 4, expected 16"), std::string::npos) << *why;

  found = kCounters;
  found.value_size = 96;
  why = layout_mismatch(kCounters, found);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("value size 96"), std::string::npos) << *why;
}

TEST(MapLayout, ResizedMapIsReplacedNotAdopted) {
  MapLayout found = kCounters;
  found.max_entries = 1024;
  auto why = layout_mismatch(kCounters, found);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("max entries 1024, expected 65536"), std::string::npos) << *why;
}

TEST(MapLayout, OlderLayoutVersionIsNeverTrusted) {
  MapLayout settings{BPF_MAP_TYPE_ARRAY, 4, sizeof(bwa_settings), 1};
  auto why = layout_mismatch(settings, settings, BWA_LAYOUT_VERSION + 1);
  ASSERT_TRUE(why.has_value());
  EXPECT_NE(why->find("layout version"), std::string::npos) << *why;
  EXPECT_TRUE(layout_mismatch(settings, settings, 0u).has_value());  // unreadable settings
}

TEST(MapLayout, SeveralDifferencesAreAllListed) {
  MapLayout found{BPF_MAP_TYPE_HASH, 4, 8, 10};
  auto why = layout_mismatch(kCounters, found);
  ASSERT_TRUE(why.has_value());
  for (const char* part : {"map type", "key size", "value size", "max entries"}) {
    EXPECT_NE(why->find(part), std::string::npos) << *why;
  }
}

}  // namespace
}  // namespace bwalloc
