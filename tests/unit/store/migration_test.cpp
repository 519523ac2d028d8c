// Migrations upgrade a database written by an older agent in place: its
// history is kept and reads the same through the new schema.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/store/migrations.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-migration-" + std::to_string(getpid()) + "-" +
                                                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "bwalloc.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // A file as an agent with only migration 1 left it, with some history.
  void write_schema_1_database() {
    auto db = SqliteDb::open(path_, false);
    ASSERT_TRUE(db.ok()) << db.message();
    ASSERT_TRUE(db->exec(kMigrations[0]).ok());
    ASSERT_TRUE(db->exec("PRAGMA user_version=1").ok());
    ASSERT_TRUE(db->exec("BEGIN").ok());
    for (int i = 0; i < 30; ++i) {
      const std::string ts = std::to_string(kT0 + i * 1000);
      ASSERT_TRUE(db->exec("INSERT INTO usage_raw(ip, ts, rx_bytes, tx_bytes) VALUES ('10.10.0.5', " + ts + ", " +
                           std::to_string(i) + ", 1), ('10.10.0.6', " + ts + ", 7, 7)")
                      .ok());
    }
    ASSERT_TRUE(db->exec("COMMIT").ok());
  }
  static std::vector<std::string> raw_indexes(SqliteStore& store) {
    auto q = store.db().prepare(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'usage_raw' "
        "AND sql IS NOT NULL ORDER BY name");
    std::vector<std::string> names;
    EXPECT_TRUE(q->for_each_row([&] { names.push_back(q->text_at(0)); }).ok());
    return names;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(MigrationTest, SchemaOneFileIsUpgradedInPlaceAndKeepsItsHistory) {
  write_schema_1_database();
  auto store = SqliteStore::open(path_);
  ASSERT_TRUE(store.ok()) << store.message();
  EXPECT_EQ(*(*store)->schema_version(), static_cast<int64_t>(kMigrations.size()));
  EXPECT_EQ(raw_indexes(**store), std::vector<std::string>{"usage_raw_ts_ip"})
      << "the per-device index that made every tick rewrite it is gone";
  EXPECT_EQ((*store)->db().query_int("SELECT COUNT(*) FROM usage_raw").value(), 60);

  auto history = (*store)->history("10.10.0.5", kT0 + 5000, kT0 + 15'000, HistoryResolution::Raw);
  ASSERT_TRUE(history.ok()) << history.message();
  ASSERT_EQ(history->size(), 10u) << "from inclusive, to exclusive";
  for (size_t i = 0; i < history->size(); ++i) {
    EXPECT_EQ((*history)[i].ip, "10.10.0.5");
    EXPECT_EQ((*history)[i].ts_ms, kT0 + 5000 + static_cast<int64_t>(i) * 1000) << "oldest first";
    EXPECT_EQ((*history)[i].down_bytes, 5 + i);
  }

  TickRecord next;
  next.ts_ms = kT0 + 30'000;
  next.samples = {{IpAddress::parse("10.10.0.5").value(), 99, 1}};
  ASSERT_TRUE((*store)->write_tick(next).ok());
  auto newest = (*store)->recent_usage(1);
  ASSERT_EQ(newest->size(), 1u);
  EXPECT_EQ((*newest)[0].down_bytes, 99u);
}

TEST_F(MigrationTest, RawHistorySkipsOtherDevicesAndTicksWithoutARow) {
  auto store = SqliteStore::open(path_);
  ASSERT_TRUE(store.ok()) << store.message();
  const auto a = IpAddress::parse("10.10.0.5").value();
  const auto b = IpAddress::parse("10.10.0.50").value();
  for (int i = 0; i < 10; ++i) {
    TickRecord r;
    r.ts_ms = kT0 + i * 1000;
    r.samples.push_back({b, 1, 1});
    if (i % 3 == 0) r.samples.push_back({a, static_cast<uint64_t>(i), 0});  // idle ticks write no row
    ASSERT_TRUE((*store)->write_tick(r).ok());
  }
  auto history = (*store)->history("10.10.0.5", kT0, kT0 + 10'000, HistoryResolution::Raw);
  ASSERT_TRUE(history.ok()) << history.message();
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ((*history)[3].ts_ms, kT0 + 9000);
  EXPECT_EQ((*history)[3].down_bytes, 9u);
  EXPECT_TRUE((*store)->history("10.10.0.5", kT0 + 10'000, kT0 + 20'000, HistoryResolution::Raw)->empty());
  EXPECT_TRUE((*store)->history("10.10.0.9", kT0, kT0 + 10'000, HistoryResolution::Raw)->empty());
}

}  // namespace
}  // namespace bwalloc
