// The store on real SQLite files: WAL and migrations, one atomic write per
// tick, rollups that equal the raw sums and never double count, retention,
// a concurrent reader, hostile text stored verbatim, and a failed write
// that loses nothing on retry.
#include "agent/store/sqlite_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace bwalloc {
namespace {

const IpAddress kA = IpAddress::parse("10.10.0.5").value();
const IpAddress kB = IpAddress::parse("fd00:10::7").value();
constexpr int64_t kT0 = 1'800'000'000'000;  // ms; a whole day boundary is not needed

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-store-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    path_ = (dir_ / "sub" / "bwalloc.db").string();
    auto s = SqliteStore::open(path_);
    ASSERT_TRUE(s.ok()) << s.message();
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  TickRecord tick(int64_t ts, uint64_t rx, uint64_t tx) {
    TickRecord r;
    r.ts_ms = ts;
    r.samples = {{kA, rx, tx}, {kB, rx * 2, tx * 2}};
    return r;
  }
  int64_t scalar(const std::string& sql) { return store_->db().query_int(sql).value(); }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> store_;
};

TEST_F(StoreTest, OpensInWalModeWithMigrationsAppliedOnce) {
  EXPECT_EQ(*store_->schema_version(), 2);
  auto mode = store_->db().prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->step());
  EXPECT_EQ(mode->text_at(0), "wal");
  EXPECT_EQ(scalar("PRAGMA journal_size_limit"), 16777216);
  store_.reset();
  auto again = SqliteStore::open(path_);
  ASSERT_TRUE(again.ok()) << again.message();
  EXPECT_EQ(*(*again)->schema_version(), 2);
}

TEST_F(StoreTest, TickIsWrittenAtomicallyWithEventsDevicesAndBlocks) {
  TickRecord r = tick(kT0, 100, 200);
  r.events.push_back(Event{std::chrono::system_clock::time_point(std::chrono::milliseconds(kT0)), EventLevel::Admin,
                           "blocked 10.10.0.5", "admin", kA});
  r.devices.push_back(DeviceRecord{kA, "02:00:00:00:00:05", "<img src=x onerror=alert(1)>'; DROP TABLE devices;--",
                                   "Acme", Priority::Blocked, true, kT0, kT0});
  r.blocks.push_back(BlockRecord{kA, "abuse", kT0});
  ASSERT_TRUE(store_->write_tick(r).ok());
  auto devices = store_->devices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].hostname, "<img src=x onerror=alert(1)>'; DROP TABLE devices;--") << "stored verbatim";
  EXPECT_EQ((*devices)[0].priority, Priority::Blocked);
  EXPECT_TRUE((*devices)[0].manual);
  EXPECT_EQ(store_->blocked()->size(), 1u);
  auto events = store_->recent_events(50);
  ASSERT_EQ(events->size(), 1u);
  EXPECT_EQ((*events)[0].level, EventLevel::Admin);
  EXPECT_EQ((*events)[0].ip, "10.10.0.5");
  EXPECT_EQ(store_->recent_usage(200)->size(), 2u);

  TickRecord unblock;
  unblock.ts_ms = kT0 + 1000;
  unblock.unblocks.push_back(kA);
  ASSERT_TRUE(store_->write_tick(unblock).ok());
  EXPECT_TRUE(store_->blocked()->empty());
}

TEST_F(StoreTest, RecentQueriesAreNewestFirstAndLimited) {
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(store_->write_tick(tick(kT0 + i * 1000, static_cast<uint64_t>(i), 0)).ok());
  auto usage = store_->recent_usage(200);
  ASSERT_EQ(usage->size(), 200u);
  EXPECT_EQ((*usage)[0].ts_ms, kT0 + 299 * 1000);
  auto history = store_->history("10.10.0.5", kT0, kT0 + 10'000, HistoryResolution::Raw);
  ASSERT_EQ(history->size(), 10u);
  EXPECT_EQ((*history)[0].ts_ms, kT0) << "history is oldest first";
}

TEST_F(StoreTest, RollupsEqualRawSumsAndNeverDoubleCount) {
  // Three hours of one sample per 10 s, crossing minute and hour boundaries.
  uint64_t total_rx = 0;
  for (int64_t t = 0; t < 3 * 3'600'000; t += 10'000) {
    uint64_t rx = static_cast<uint64_t>(t / 10'000 % 97);
    total_rx += rx;
    ASSERT_TRUE(store_->write_tick(tick(kT0 + t, rx, 1)).ok());
  }
  const int64_t end = kT0 + 3 * 3'600'000;
  Retention keep_all{365 * 86'400'000ll, 365 * 86'400'000ll, 365 * 86'400'000ll, 3650 * 86'400'000ll};
  ASSERT_TRUE(store_->maintain(end, keep_all).ok());
  ASSERT_TRUE(store_->maintain(end, keep_all).ok()) << "a second run must not add anything";
  auto raw_in_minutes = scalar("SELECT SUM(rx_bytes) FROM usage_raw WHERE ip = '10.10.0.5' AND ts < " +
                               std::to_string(end / 60'000 * 60'000));
  EXPECT_EQ(scalar("SELECT SUM(rx_bytes) FROM usage_minute WHERE ip = '10.10.0.5'"), raw_in_minutes);
  auto minutes_in_hours = scalar("SELECT SUM(rx_bytes) FROM usage_minute WHERE ip = '10.10.0.5' AND bucket < " +
                                 std::to_string(end / 3'600'000 * 3'600'000));
  EXPECT_EQ(scalar("SELECT SUM(rx_bytes) FROM usage_hour WHERE ip = '10.10.0.5'"), minutes_in_hours);
  EXPECT_LE(static_cast<uint64_t>(raw_in_minutes), total_rx);
  // A restart (new connection) and another run still add nothing.
  store_.reset();
  store_ = std::move(SqliteStore::open(path_).value());
  ASSERT_TRUE(store_->maintain(end, keep_all).ok());
  EXPECT_EQ(scalar("SELECT SUM(rx_bytes) FROM usage_minute WHERE ip = '10.10.0.5'"), raw_in_minutes);
  auto hours = store_->history("10.10.0.5", kT0 - 3'600'000, end, HistoryResolution::Hour);
  ASSERT_FALSE(hours->empty());
}

TEST_F(StoreTest, RetentionPrunesOnlyWhatWasRolledUp) {
  for (int64_t t = 0; t < 600'000; t += 1000) ASSERT_TRUE(store_->write_tick(tick(kT0 + t, 10, 10)).ok());
  Retention short_raw{60'000, 7 * 86'400'000ll, 90 * 86'400'000ll, 730 * 86'400'000ll};
  ASSERT_TRUE(store_->maintain(kT0 + 600'000, short_raw).ok());
  EXPECT_LE(scalar("SELECT COUNT(*) FROM usage_raw"), 2 * 61);
  EXPECT_EQ(scalar("SELECT SUM(rx_bytes) FROM usage_minute WHERE ip = '10.10.0.5'"), 600 * 10)
      << "pruned raw samples live on in the minute table";
}

TEST_F(StoreTest, ReaderSeesWriterDataConcurrently) {
  ASSERT_TRUE(store_->write_tick(tick(kT0, 1, 2)).ok());
  auto reader = SqliteStore::open_reader(path_);
  ASSERT_TRUE(reader.ok()) << reader.message();
  EXPECT_EQ((*reader)->recent_usage(10)->size(), 2u);
  ASSERT_TRUE(store_->write_tick(tick(kT0 + 1000, 1, 2)).ok());
  EXPECT_EQ((*reader)->recent_usage(10)->size(), 4u);
  EXPECT_FALSE((*reader)->write_tick(tick(kT0 + 2000, 1, 1)).ok()) << "a reader cannot write";
}

TEST_F(StoreTest, FailedWriteIsKeptAndWrittenOnRetry) {
  PendingWrites pending(100);
  // Fill the database to a page cap so the next tick cannot be written.
  ASSERT_TRUE(store_->db().exec("PRAGMA max_page_count = " + std::to_string(scalar("PRAGMA page_count"))).ok());
  TickRecord big = tick(kT0, 5, 5);
  for (int i = 0; i < 2000; ++i) big.samples.push_back({kA, 1, 1});
  pending.push(big);
  auto first = pending.flush(*store_);
  ASSERT_FALSE(first.ok());
  EXPECT_NE(first.message().find("full"), std::string::npos) << first.message();
  EXPECT_EQ(pending.size(), 1u) << "the tick is kept";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM usage_raw"), 0) << "nothing half-written";
  ASSERT_TRUE(store_->db().exec("PRAGMA max_page_count = 1073741823").ok());
  ASSERT_TRUE(pending.flush(*store_).ok());
  EXPECT_EQ(pending.size(), 0u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM usage_raw"), 2002);
}

TEST(PendingWrites, BoundedDropsOldestAndCounts) {
  PendingWrites pending(3);
  for (int i = 0; i < 5; ++i) pending.push(TickRecord{i});
  EXPECT_EQ(pending.size(), 3u);
  EXPECT_EQ(pending.dropped(), 2u);
}

}  // namespace
}  // namespace bwalloc
