// Metric formulas as the original defined them, the gateway prober against
// a real peer in a namespace, and the simulator's respect for policies.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <thread>

#include "agent/metrics/gateway_prober.h"
#include "agent/metrics/traffic_metrics.h"
#include "agent/runtime/netns.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace bwalloc {
namespace {

using namespace std::chrono_literals;

TEST(Metrics, ThroughputIsBytesInTheLastFiveSecondsCountedOnce) {
  ThroughputWindow window;
  std::chrono::steady_clock::time_point t{std::chrono::seconds(100)};
  for (int i = 0; i < 10; ++i) {
    window.add(t, 1'250'000);  // 10 Mbit per tick
    t += 1s;
  }
  // The last 5 ticks: 5 * 1.25 MB * 8 / 1e6 / 5 = 10 Mbit/s.
  EXPECT_DOUBLE_EQ(window.mbit_per_sec(t - 1s), 10.0);
  EXPECT_DOUBLE_EQ(window.mbit_per_sec(t + 10s), 0.0) << "old ticks fall out";
}

TEST(Metrics, CongestionAndActive) {
  EXPECT_DOUBLE_EQ(congestion_percent(0, 0), 0.0);
  EXPECT_DOUBLE_EQ(congestion_percent(1, 4), 25.0);
  const int64_t now = 1'000'000'000;
  EXPECT_TRUE(is_active(now - 300'000, now)) << "5 minutes ago is still active";
  EXPECT_FALSE(is_active(now - 300'001, now));
  EXPECT_FALSE(is_active(0, now)) << "never seen";
}

TEST(Metrics, ProbeSummaryIsMeanRttAndLossShare) {
  auto h = summarize_probes({10.0, std::nullopt, 20.0, std::nullopt});
  EXPECT_DOUBLE_EQ(*h.delay_ms, 15.0);
  EXPECT_DOUBLE_EQ(*h.loss_percent, 50.0);
  auto lost = summarize_probes({std::nullopt});
  EXPECT_FALSE(lost.delay_ms.has_value());
  EXPECT_DOUBLE_EQ(*lost.loss_percent, 100.0);
  EXPECT_FALSE(summarize_probes({}).loss_percent.has_value()) << "no probes yet: unknown, not 0";
}

TEST(Metrics, ProberMeasuresTheRealDefaultGateway) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to make network namespaces";
  system("ip netns del bwt-gw-a 2>/dev/null; ip netns del bwt-gw-b 2>/dev/null");
  ASSERT_EQ(system("ip netns add bwt-gw-a && ip netns add bwt-gw-b && "
                   "ip link add g0 netns bwt-gw-a type veth peer name g1 netns bwt-gw-b && "
                   "ip -n bwt-gw-a addr add 10.98.0.2/24 dev g0 && ip -n bwt-gw-b addr add 10.98.0.1/24 dev g1 && "
                   "ip -n bwt-gw-a link set g0 up && ip -n bwt-gw-b link set g1 up && "
                   "ip -n bwt-gw-a link set lo up && ip -n bwt-gw-a route add default via 10.98.0.1"),
            0);
  GatewayHealth reachable, gone;
  {
    auto ns = NetnsSwitch::enter("bwt-gw-a");
    ASSERT_TRUE(ns.ok()) << ns.message();
    auto gw = default_gateway_v4();
    ASSERT_TRUE(gw.ok()) << gw.message();
    ASSERT_TRUE(gw->has_value());
    EXPECT_EQ((*gw)->to_string(), "10.98.0.1");
    GatewayProber prober("", 100ms, 5);
    prober.start();  // the thread starts inside bwt-gw-a
    // Polls for what the prober has measured, not for a guessed time; the
    // limit only turns a stuck prober into a failure.
    auto wait_for = [&](const std::function<bool(const GatewayHealth&)>& done) {
      const auto deadline = std::chrono::steady_clock::now() + 120s;
      GatewayHealth h = prober.health();
      while (!done(h) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);
        h = prober.health();
      }
      return h;
    };
    // The first probe's outcome: answered, with a delay.
    reachable = wait_for([](const GatewayHealth& h) { return h.loss_percent.has_value(); });
    system("ip -n bwt-gw-b addr del 10.98.0.1/24 dev g1");
    // A window of 5 lost probes (each waits 1 s for its reply).
    gone = wait_for([](const GatewayHealth& h) { return h.loss_percent.value_or(0) == 100.0; });
  }
  system("ip netns del bwt-gw-a; ip netns del bwt-gw-b");
  EXPECT_EQ(reachable.gateway.value_or(""), "10.98.0.1");
  ASSERT_TRUE(reachable.delay_ms.has_value());
  EXPECT_GT(*reachable.delay_ms, 0.0);
  EXPECT_DOUBLE_EQ(reachable.loss_percent.value_or(-1), 0.0);
  EXPECT_DOUBLE_EQ(gone.loss_percent.value_or(-1), 100.0);
}

TEST(Simulator, HonoursLimitsAndBlocks) {
  FakeClock clock;
  SimulatorDatapath sim(clock, 8, 3);
  auto first = sim.read_counters();
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 8u);
  const IpAddress heavy = (*first)[0].address;  // device 0 is a heavy downloader
  const IpAddress other = (*first)[1].address;
  ASSERT_TRUE(sim.apply_policies({DevicePolicy{heavy, Priority::Low, 1'000'000, 1'000'000, false},
                                  DevicePolicy{other, Priority::Blocked, 0, 0, false}})
                  .ok());
  clock.advance(10s);
  auto after = sim.read_counters();
  ASSERT_TRUE(after.ok());
  for (const auto& c : *after) {
    if (c.address == heavy) {
      EXPECT_LE(c.down_bytes - (*first)[0].down_bytes, 10u * 1'000'000 / 8) << "never faster than its limit";
      EXPECT_GT(c.down_bytes - (*first)[0].down_bytes, 0u);
    }
    if (c.address == other) {
      EXPECT_EQ(c.down_bytes, (*first)[1].down_bytes) << "Blocked grows not at all";
      EXPECT_GT(c.blocked_drops, 0u);
    }
  }
  SimulatorDatapath again(clock, 8, 3);
  EXPECT_EQ(again.read_counters()->size(), 8u);
}

}  // namespace
}  // namespace bwalloc
