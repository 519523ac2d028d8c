// The writer's WAL is copied back into the database by the background
// checkpointer, not inside the tick's commit, and the WAL is then reused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/store/sqlite_store.h"

namespace bwalloc {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;

TEST(WalCheckpointer, CopiesTheWalIntoTheDatabaseOffTheWriter) {
  const auto dir = std::filesystem::temp_directory_path() / ("bwalloc-ckpt-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "bwalloc.db").string();
  auto store = SqliteStore::open(path);
  ASSERT_TRUE(store.ok()) << store.message();
  const auto db_bytes_at_start = std::filesystem::file_size(path);

  // About 2,000 rows a tick: past SQLite's 1,000-page threshold in a few ticks.
  std::vector<UsageSample> samples;
  for (uint32_t i = 0; i < 2000; ++i) samples.push_back({IpAddress::from_v4(0x0a000000u + i), i, i});
  auto write_ticks = [&](int from, int count) {
    for (int t = from; t < from + count; ++t) {
      TickRecord r;
      r.ts_ms = kT0 + t * 1000;
      r.samples = samples;
      ASSERT_TRUE((*store)->write_tick(r).ok());
    }
  };
  write_ticks(0, 40);
  // The checkpointer runs on its own thread: wait for its copy (bounded).
  auto copied = [&] { return std::filesystem::file_size(path) > db_bytes_at_start + (1 << 20); };
  for (int i = 0; i < 500 && !copied(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_TRUE(copied()) << "the database file should hold the checkpointed pages";

  // Later ticks reuse the checkpointed WAL instead of growing it for ever.
  for (int round = 0; round < 5; ++round) {
    write_ticks(40 + round * 40, 40);
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), 64u << 20);
  EXPECT_EQ((*store)->db().query_int("SELECT COUNT(*) FROM usage_raw").value(), 240 * 2000);
  EXPECT_EQ((*store)->db().query_int("PRAGMA integrity_check").ok(), true);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwalloc
