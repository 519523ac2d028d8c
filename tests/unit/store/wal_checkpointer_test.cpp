// The writer's WAL is copied back into the database by the background
// checkpointer, not inside the tick's commit, and the WAL is then reused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "agent/store/sqlite_store.h"
#include "tests/support/wait.h"

namespace bwalloc {
namespace {

constexpr int64_t kT0 = 1'800'000'000'000;
// How often a wait looks at the checkpointer (test::kPatience only turns a
// stuck one into a failure).
constexpr std::chrono::milliseconds kPoll{10};

// The background checkpointer has done what it was asked: the WAL-index
// (DB-shm, https://www.sqlite.org/walformat.html) says every frame of the
// WAL (mxFrame, u32 at byte 16) is copied back (nBackfill, u32 at byte 96),
// or the WAL is below the 1,000 pages at which the writer asks for a copy.
bool checkpointer_caught_up(const std::string& db) {
  std::ifstream shm(db + "-shm", std::ios::binary);
  char header[100];
  if (!shm.read(header, sizeof header)) return false;
  uint32_t frames = 0, backfilled = 0;
  std::memcpy(&frames, header + 16, sizeof frames);
  std::memcpy(&backfilled, header + 96, sizeof backfilled);
  return frames < 1000 || backfilled >= frames;
}

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
  // The checkpointer runs on its own thread: wait for its copy.
  EXPECT_TRUE(test::wait_until([&] { return std::filesystem::file_size(path) > db_bytes_at_start + (1 << 20); },
                               test::kPatience, kPoll))
      << "the database file should hold the checkpointed pages";

  // Later ticks reuse the checkpointed WAL instead of growing it for ever:
  // once the checkpointer has caught up (however long that takes on a busy
  // machine), the next write starts the WAL over.
  for (int round = 0; round < 5; ++round) {
    write_ticks(40 + round * 40, 40);
    ASSERT_TRUE(test::wait_until([&] { return checkpointer_caught_up(path); }, test::kPatience, kPoll))
        << "the checkpointer fell behind for good";
  }
  EXPECT_LT(std::filesystem::file_size(path + "-wal"), 64u << 20);
  EXPECT_EQ((*store)->db().query_int("SELECT COUNT(*) FROM usage_raw").value(), 240 * 2000);
  EXPECT_EQ((*store)->db().query_int("PRAGMA integrity_check").ok(), true);
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwalloc
