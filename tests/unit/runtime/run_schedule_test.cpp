// RunSchedule: when the run loop ticks, scans and waits (pure, on a fake
// clock's time).
#include "agent/runtime/run_schedule.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

using namespace std::chrono_literals;
using TimePoint = RunSchedule::TimePoint;

TEST(RunSchedule, TicksEveryPeriodFromTheStart) {
  const TimePoint start{100s};
  RunSchedule s(start);
  EXPECT_TRUE(s.tick_due(start));
  s.ticked(start + 10ms, 1000ms);
  EXPECT_EQ(s.next_tick(), start + 1s);
  EXPECT_FALSE(s.tick_due(start + 999ms));
  EXPECT_TRUE(s.tick_due(start + 1s));
}

TEST(RunSchedule, ASlowTickDoesNotCatchUpInABurst) {
  const TimePoint start{100s};
  RunSchedule s(start);
  s.ticked(start + 3500ms, 1000ms);  // the tick took 3.5 s
  EXPECT_EQ(s.next_tick(), start + 3500ms);
  s.ticked(start + 3500ms, 1000ms);
  EXPECT_EQ(s.next_tick(), start + 4500ms);
}

TEST(RunSchedule, WaitsUntilTheNextTickButFollowsInterfacesMeanwhile) {
  const TimePoint start{100s};
  RunSchedule s(start);
  EXPECT_EQ(s.wait_from(start), 0ns);
  s.ticked(start, 1000ms);
  EXPECT_EQ(s.wait_from(start), RunSchedule::kFollowInterval);
  EXPECT_EQ(s.wait_from(start + 950ms), 50ms);
  EXPECT_EQ(s.wait_from(start + 2s), 0ns);
}

TEST(RunSchedule, ScansAtTheStartAndThenEveryScanInterval) {
  const TimePoint start{100s};
  RunSchedule s(start);
  EXPECT_TRUE(s.scan_due(start));
  s.scanned(start + 5ms);
  EXPECT_FALSE(s.scan_due(start + 29s));
  EXPECT_TRUE(s.scan_due(start + 5ms + RunSchedule::kScanInterval));
}

}  // namespace
}  // namespace bwalloc
