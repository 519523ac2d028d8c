// The sampler turns cumulative counters into deltas and rates that are
// never negative or huge: counter resets, evictions, first sight, and
// early, late or repeated reads.
#include "agent/core/sampler.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

using namespace std::chrono_literals;
const IpAddress kDevice = IpAddress::parse("10.10.0.5").value();

DeviceCounters counters(uint64_t up, uint64_t down) {
  DeviceCounters c;
  c.address = kDevice;
  c.up_bytes = up;
  c.down_bytes = down;
  return c;
}

class SamplerTest : public ::testing::Test {
 protected:
  Sampler sampler{10, 1000ms, 300'000ms};
  std::chrono::steady_clock::time_point now{std::chrono::seconds(1000)};
};

TEST_F(SamplerTest, FirstSightIsOnlyABaseline) {
  auto first = sampler.update({counters(5'000'000'000, 9'000'000'000)}, now);
  EXPECT_TRUE(first.empty()) << "a restart must not turn hours of bytes into one tick's rate";
  now += 1s;
  auto second = sampler.update({counters(5'000'125'000, 9'000'250'000)}, now);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].up_bytes, 125'000u);
  EXPECT_EQ(second[0].down_bytes, 250'000u);
  EXPECT_DOUBLE_EQ(second[0].up_bits_per_sec, 1'000'000);
  EXPECT_DOUBLE_EQ(second[0].down_bits_per_sec, 2'000'000);
  EXPECT_DOUBLE_EQ(sampler.windows().at(kDevice).back(), 3'000'000);
}

TEST_F(SamplerTest, DeviceAppearingAfterStartCountsAllItsBytes) {
  sampler.update({}, now);
  now += 1s;
  auto s = sampler.update({counters(250'000, 0)}, now);
  ASSERT_EQ(s.size(), 1u) << "its counter entry is new since the last read";
  EXPECT_EQ(s[0].up_bytes, 250'000u);
  EXPECT_DOUBLE_EQ(s[0].up_bits_per_sec, 2'000'000);
}

TEST_F(SamplerTest, CounterThatWentDownCountsItsNewValue) {
  sampler.update({counters(1'000'000, 1'000'000)}, now);
  now += 1s;
  auto after_reset = sampler.update({counters(500, 700)}, now);
  ASSERT_EQ(after_reset.size(), 1u);
  EXPECT_EQ(after_reset[0].up_bytes, 500u);
  EXPECT_EQ(after_reset[0].down_bytes, 700u);
}

TEST_F(SamplerTest, EarlyReadsDoNotInflateRates) {
  sampler.update({counters(0, 0)}, now);
  now += 1ms;  // a read right after the previous one
  auto s = sampler.update({counters(1000, 0)}, now);
  EXPECT_DOUBLE_EQ(s[0].up_bits_per_sec, 1000 * 8 / 0.5) << "the interval is at least half a tick";
  auto same_instant = sampler.update({counters(2000, 0)}, now);
  EXPECT_GT(same_instant[0].up_bits_per_sec, 0);
  EXPECT_LT(same_instant[0].up_bits_per_sec, 1e6);
}

TEST_F(SamplerTest, LongGapsAverageOverTheGap) {
  sampler.update({counters(0, 0)}, now);
  now += 100s;
  auto s = sampler.update({counters(1'250'000, 0)}, now);
  EXPECT_DOUBLE_EQ(s[0].up_bits_per_sec, 100'000);
}

TEST_F(SamplerTest, WindowKeepsTheNewestSamples) {
  for (int i = 0; i <= 15; ++i) {
    sampler.update({counters(static_cast<uint64_t>(i) * 1000, 0)}, now);
    now += 1s;
  }
  const auto& w = sampler.windows().at(kDevice);
  EXPECT_EQ(w.size(), 10u);
  EXPECT_DOUBLE_EQ(w.back(), 8000);
}

TEST_F(SamplerTest, DevicesGoneForLongAreForgotten) {
  sampler.update({counters(0, 0)}, now);
  now += 1s;
  sampler.update({counters(10, 0)}, now);
  EXPECT_EQ(sampler.tracked_devices(), 1u);
  now += 301s;
  sampler.update({}, now);
  EXPECT_EQ(sampler.tracked_devices(), 0u);
  EXPECT_TRUE(sampler.windows().empty());
}

}  // namespace
}  // namespace bwalloc
