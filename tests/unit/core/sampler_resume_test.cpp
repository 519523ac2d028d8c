// Sampler::resume: an agent restarted on kept kernel maps continues from its
// predecessor's last read, so the bytes of the downtime land in the first
// sample instead of being lost.
#include <gtest/gtest.h>

#include "agent/core/sampler.h"

namespace bwalloc {
namespace {

using namespace std::chrono_literals;
const IpAddress kOld = IpAddress::parse("10.10.0.5").value();
const IpAddress kNew = IpAddress::parse("10.10.0.6").value();

DeviceCounters counters(const IpAddress& ip, uint64_t up, uint64_t down) {
  DeviceCounters c;
  c.address = ip;
  c.up_bytes = up;
  c.down_bytes = down;
  return c;
}

TEST(SamplerResume, FirstReadCountsTheDowntimeFromThePreviousBaseline) {
  std::chrono::steady_clock::time_point t0{std::chrono::seconds(5000)};
  Sampler before{10, 1000ms, 600'000ms};
  before.update({counters(kOld, 1'000, 2'000)}, t0);
  auto saved = before.baselines();
  ASSERT_EQ(saved.size(), 1u);

  Sampler after{10, 1000ms, 600'000ms};
  ASSERT_TRUE(after.resume(saved, before.last_read(), t0 + 2s));
  auto s = after.update({counters(kOld, 251'000, 2'000), counters(kNew, 100, 0)}, t0 + 2s);
  ASSERT_EQ(s.size(), 2u) << "no read only sets a baseline after a resume";
  for (const auto& sample : s) {
    if (sample.ip == kOld) {
      EXPECT_EQ(sample.up_bytes, 250'000u);
      EXPECT_DOUBLE_EQ(sample.up_bits_per_sec, 1'000'000) << "rate over the 2 s since the last read";
    } else {
      EXPECT_EQ(sample.up_bytes, 100u) << "a device absent from the baseline appeared since: all of it is new";
    }
  }
}

TEST(SamplerResume, StaleOrFutureBaselinesAreIgnored) {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(5000)};
  std::vector<CounterBaseline> saved = {{kOld, 1'000, 1'000}};
  Sampler stale{10, 1000ms, 600'000ms};
  EXPECT_FALSE(stale.resume(saved, now - 601s, now));
  EXPECT_TRUE(stale.update({counters(kOld, 5'000, 5'000)}, now).empty()) << "back to baseline-only first read";
  Sampler future{10, 1000ms, 600'000ms};
  EXPECT_FALSE(future.resume(saved, now + 1s, now));
}

TEST(SamplerResume, AResetCounterCountsItsNewValueNeverNegative) {
  std::chrono::steady_clock::time_point now{std::chrono::seconds(5000)};
  Sampler s{10, 1000ms, 600'000ms};
  ASSERT_TRUE(s.resume({{kOld, 9'000'000, 9'000'000}}, now - 1s, now));
  auto out = s.update({counters(kOld, 300, 400)}, now);  // the pins were replaced meanwhile
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].up_bytes, 300u);
  EXPECT_EQ(out[0].down_bytes, 400u);
}

}  // namespace
}  // namespace bwalloc
