// Wall-clock steps under the real agent (simulator datapath, SqliteStore on
// a real file, the production SettledClock over a FakeClock): a day
// forward, back again, to 1970, and back to the right time. Throughout:
// rates come from monotonic time (never negative or huge); every byte
// written is accounted for exactly once across raw rows and the minute,
// hour and day rollups; after the backward step no row stays in the future
// and what is written afterwards is rolled up, not hidden or pruned; while
// the clock reads 1970 history goes on at the right time.
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/common/settled_clock.h"
#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace bwalloc {
namespace {

using namespace std::chrono;
constexpr auto kDay = hours(24);

int64_t ms_of(system_clock::time_point t) { return duration_cast<milliseconds>(t.time_since_epoch()).count(); }

class ClockStepTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bwh4-clock-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    AgentParts parts;
    parts.config.store.path = (dir_ / "bwalloc.db").string();
    parts.datapath = &datapath_;
    auto store = SqliteStore::open(parts.config.store.path);
    ASSERT_TRUE(store.ok()) << store.message();
    parts.store = std::move(*store);
    parts.clock = &clock_;
    agent_ = std::make_unique<Agent>(std::move(parts));
    ASSERT_TRUE(agent_->restore().ok());
    auto db = SqliteDb::open((dir_ / "bwalloc.db").string(), false);
    ASSERT_TRUE(db.ok());
    check_ = std::make_unique<SqliteDb>(std::move(*db));
  }
  void TearDown() override {
    agent_.reset();
    check_.reset();
    std::filesystem::remove_all(dir_);
  }
  int64_t q(const std::string& sql) {
    auto v = check_->query_int(sql);
    EXPECT_TRUE(v.ok()) << sql << ": " << v.message();
    return v.ok() ? *v : -1;
  }
  int64_t now() { return ms_of(settled_.wall_now()); }

  // Ticks once a second; after each tick adds the bytes of the rows it
  // inserted (by rowid: repairs update rows, never insert) and checks rates.
  void run(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      fake_.advance(seconds(1));
      agent_->tick();
      written_ +=
          q("SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_raw WHERE rowid > " + std::to_string(last_rowid_));
      last_rowid_ = q("SELECT COALESCE(MAX(rowid), 0) FROM usage_raw");
      auto snap = agent_->snapshot();
      for (const auto& d : snap->devices) {
        ASSERT_GE(d.up_bits_per_sec, 0) << d.ip.to_string();
        ASSERT_GE(d.down_bits_per_sec, 0) << d.ip.to_string();
        ASSERT_LE(d.up_bits_per_sec + d.down_bits_per_sec, 1e9) << d.ip.to_string() << ": a huge rate";
      }
      ASSERT_GE(snap->metrics.throughput_mbps, 0);
      ASSERT_LE(snap->metrics.throughput_mbps, 10'000);
    }
  }
  int64_t watermark(const char* name) {
    return q(std::string("SELECT COALESCE((SELECT upto FROM rollup_state WHERE name = '") + name + "'), 0)");
  }
  // Every byte once: rolled into a level, or still waiting below it.
  void expect_every_byte_once(const char* when) {
    const std::string raw_waiting = "(SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_raw WHERE ts >= " +
                                    std::to_string(watermark("minute")) + ")";
    const std::string minute_waiting =
        "(SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_minute WHERE bucket >= " +
        std::to_string(watermark("hour")) + ")";
    const std::string hour_waiting = "(SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_hour WHERE bucket >= " +
                                     std::to_string(watermark("day")) + ")";
    EXPECT_EQ(q("SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_minute") + q("SELECT " + raw_waiting),
              written_)
        << when << ": minute level";
    EXPECT_EQ(q("SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_hour") +
                  q("SELECT " + minute_waiting + " + " + raw_waiting),
              written_)
        << when << ": hour level";
    EXPECT_EQ(q("SELECT COALESCE(SUM(rx_bytes + tx_bytes), 0) FROM usage_day") +
                  q("SELECT " + hour_waiting + " + " + minute_waiting + " + " + raw_waiting),
              written_)
        << when << ": day level";
  }
  void expect_nothing_in_the_future(const char* when) {
    const std::string n = std::to_string(now());
    EXPECT_EQ(q("SELECT COUNT(*) FROM usage_raw WHERE ts > " + n), 0) << when;
    for (const char* t : {"usage_minute", "usage_hour", "usage_day"}) {
      EXPECT_EQ(q(std::string("SELECT COUNT(*) FROM ") + t + " WHERE bucket > " + n), 0) << when << ": " << t;
    }
    EXPECT_EQ(q("SELECT COUNT(*) FROM events WHERE ts > " + n), 0) << when;
    EXPECT_EQ(q("SELECT COUNT(*) FROM devices WHERE last_seen > " + n), 0) << when;
    for (const auto& d : agent_->snapshot()->devices)
      EXPECT_LE(d.last_seen_ms, now()) << when << " " << d.ip.to_string();
  }

  std::filesystem::path dir_;
  FakeClock fake_;
  SettledClock settled_{fake_};
  const Clock& clock_ = settled_;
  SimulatorDatapath datapath_{settled_, 8, 3};
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<SqliteDb> check_;
  int64_t written_ = 0;
  int64_t last_rowid_ = 0;
};

TEST_F(ClockStepTest, DayForwardBackTo1970AndBack) {
  run(125);
  expect_every_byte_once("before any step");

  fake_.step_wall(fake_.wall_now() + kDay);
  run(125);
  expect_every_byte_once("a day ahead");

  fake_.step_wall(fake_.wall_now() - kDay);  // NTP puts it right
  const int64_t back_at = now();
  run(125);  // maintenance runs twice in here
  expect_nothing_in_the_future("after stepping back");
  expect_every_byte_once("after stepping back");
  EXPECT_GT(q("SELECT COUNT(*) FROM usage_raw WHERE ts >= " + std::to_string(back_at)), 0)
      << "rows written after the step back are hidden or pruned";
  EXPECT_GT(q("SELECT COALESCE(SUM(rx_bytes), 0) FROM usage_minute WHERE bucket >= " +
              std::to_string(back_at / 60'000 * 60'000)),
            0)
      << "rows written after the step back are never rolled up";

  const int64_t before_1970 = now();
  fake_.step_wall(system_clock::time_point{});  // the battery died
  run(125);
  EXPECT_EQ(q("SELECT COUNT(*) FROM usage_raw WHERE ts < " + std::to_string(kMinValidWallMs)), 0);
  EXPECT_EQ(q("SELECT COUNT(*) FROM events WHERE ts < " + std::to_string(kMinValidWallMs)), 0);
  EXPECT_GE(q("SELECT MAX(ts) FROM usage_raw"), before_1970 + 120'000) << "history stopped while the clock read 1970";
  expect_every_byte_once("while the clock read 1970");

  fake_.step_wall(system_clock::time_point(milliseconds(before_1970 + 125'000)));  // NTP again
  run(125);
  expect_nothing_in_the_future("after the clock was set again");
  expect_every_byte_once("after the clock was set again");
  EXPECT_EQ(q("SELECT COUNT(*) FROM usage_raw WHERE ts < " + std::to_string(kMinValidWallMs)), 0);
  EXPECT_GT(written_, 0);
}

TEST_F(ClockStepTest, StoreRefusesToRollUpOrPruneAtAClockThatIsNotSet) {
  run(125);
  auto store = SqliteStore::open((dir_ / "bwalloc.db").string());
  ASSERT_TRUE(store.ok());
  const int64_t minutes = q("SELECT COUNT(*) FROM usage_minute");
  ASSERT_GT(minutes, 0);
  auto m = (*store)->maintain(86'400'000, Retention{});  // 1970-01-02
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("clock"), std::string::npos) << m.message();
  EXPECT_EQ(q("SELECT COUNT(*) FROM usage_minute"), minutes) << "rollups touched at a clock that is not set";
}

}  // namespace
}  // namespace bwalloc
