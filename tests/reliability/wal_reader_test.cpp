// The WAL under readers. The agent's own reader (a connection kept open for
// the whole run, one short statement per HTTP query) must not pin the WAL:
// over thousands of ticks it stays under kWalBound. A foreign reader that
// holds a read transaction open (an operator's sqlite3 shell, a backup) pins
// it: SQLite cannot checkpoint past that snapshot, so the WAL grows while it
// is held. Then maintenance must neither stall the tick thread waiting for
// the reader nor stay silent: it reports the reader and the WAL size, and
// the first maintenance after the reader lets go truncates the WAL again.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <iostream>

#include "agent/store/sqlite_store.h"
#include "tests/reliability/crash_ticks.h"

namespace bwalloc {
namespace {

constexpr int kDevices = 16;
constexpr int kMaintainEvery = 60;  // as the agent does
// Bound on the WAL while only short readers run: SQLite's automatic
// checkpoint restarts the WAL once it passes 1,000 pages (4 MiB; the file
// keeps the size of that last transaction's frames on top), and maintenance
// truncates it every 60 ticks. A WAL above 5 MiB means something pins it.
constexpr uintmax_t kWalBound = 5u << 20;

// Every sleep SQLite asks of the VFS, in microseconds: its busy handler
// waits out a busy timeout in such sleeps. The test's connections all use a
// copy of the default VFS that adds them up, so "maintenance did not wait
// for the reader" is a count of requested sleep, not a stopwatch reading
// that a loaded machine can push past any bound.
std::atomic<int64_t> g_slept_micros{0};
int (*g_real_sleep)(sqlite3_vfs*, int) = nullptr;
int counting_sleep(sqlite3_vfs* vfs, int micros) {
  g_slept_micros += micros;
  return g_real_sleep(vfs, micros);
}

class WalReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/bwh4-wal-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = (dir_ / "bwalloc.db").string();
    sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
    ASSERT_NE(real, nullptr);
    counting_vfs_ = *real;
    counting_vfs_.zName = "bwh4-counting-sleeps";
    g_real_sleep = real->xSleep;
    counting_vfs_.xSleep = counting_sleep;
    ASSERT_EQ(sqlite3_vfs_register(&counting_vfs_, 1), SQLITE_OK);  // the default for the connections below
    auto w = SqliteStore::open(path_);
    ASSERT_TRUE(w.ok()) << w.message();
    writer_ = std::move(*w);
  }
  void TearDown() override {
    writer_.reset();
    if (g_real_sleep) sqlite3_vfs_unregister(&counting_vfs_);
    std::filesystem::remove_all(dir_);
  }
  uintmax_t wal_size() {
    std::error_code ec;
    auto size = std::filesystem::file_size(path_ + "-wal", ec);
    return ec ? 0 : size;
  }
  void write(int64_t n) {
    auto w = writer_->write_tick(crash_ticks::record(n, kDevices));
    ASSERT_TRUE(w.ok()) << w.message();
  }

  std::filesystem::path dir_;
  std::string path_;
  std::unique_ptr<SqliteStore> writer_;
  sqlite3_vfs counting_vfs_{};
};

TEST_F(WalReaderTest, AgentStyleReaderOpenForThousandsOfTicksKeepsTheWalBounded) {
  auto reader = SqliteStore::open_reader(path_);
  ASSERT_TRUE(reader.ok()) << reader.message();
  uintmax_t max_wal = 0;
  for (int64_t n = 1; n <= 3000; ++n) {
    write(n);
    if (n % 5 == 0) {  // the dashboard polls history and usage
      auto h =
          (*reader)->history("10.20.0.1", crash_ticks::ts_of(0), crash_ticks::ts_of(n + 1), HistoryResolution::Raw);
      ASSERT_TRUE(h.ok()) << h.message();
      ASSERT_EQ(h->size(), static_cast<size_t>(n));
      auto u = (*reader)->recent_usage(200);
      ASSERT_TRUE(u.ok()) << u.message();
    }
    if (n % kMaintainEvery == 0) {
      auto m = writer_->maintain(crash_ticks::ts_of(n), Retention{});
      ASSERT_TRUE(m.ok()) << m.message();
    }
    max_wal = std::max(max_wal, wal_size());
  }
  std::cout << "WAL max with the agent's reader open for 3,000 ticks: " << max_wal << " bytes\n";
  EXPECT_LE(max_wal, kWalBound);
}

TEST_F(WalReaderTest, ForeignReaderHoldingATransactionIsReportedAndTheWalShrinksWhenItLetsGo) {
  auto reader = SqliteStore::open_reader(path_);
  ASSERT_TRUE(reader.ok()) << reader.message();
  write(1);
  ASSERT_TRUE((*reader)->db().exec("BEGIN").ok());
  ASSERT_TRUE((*reader)->db().query_int("SELECT COUNT(*) FROM usage_raw").ok());  // takes the snapshot

  uintmax_t max_wal = 0;
  std::string report;
  double slowest_maintain = 0;
  int64_t most_slept_micros = 0;  // by one maintenance, in SQLite's busy handler
  auto maintain = [&](int64_t n) {
    auto started = std::chrono::steady_clock::now();
    const int64_t slept_before = g_slept_micros;
    auto m = writer_->maintain(crash_ticks::ts_of(n), Retention{});
    most_slept_micros = std::max(most_slept_micros, g_slept_micros - slept_before);
    slowest_maintain =
        std::max(slowest_maintain, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    report = m ? "" : m.message();
  };
  // Write (maintaining every 60 ticks, as the agent does) until the pinned
  // WAL passes the size limit, then once more: that maintenance must report.
  int64_t n = 1;
  while (wal_size() <= static_cast<uintmax_t>(kJournalSizeLimit) && n < 50'000) {
    write(++n);
    if (n % kMaintainEvery == 0) maintain(n);
    max_wal = std::max(max_wal, wal_size());
  }
  ASSERT_GT(max_wal, static_cast<uintmax_t>(kJournalSizeLimit)) << "the reader did not pin the WAL";
  maintain(n);
  std::cout << "WAL max while a reader held a transaction over " << n << " ticks: " << max_wal << " bytes; report: \""
            << report << "\"; slowest maintenance " << slowest_maintain << " s, of it " << most_slept_micros / 1e6
            << " s asked of the busy handler\n";
  EXPECT_NE(report.find("reader"), std::string::npos) << report;
  // Not a speed check: the checkpoint must not wait out SQLite's 5 s busy
  // timeout for the reader on the tick thread, every minute. Waiting it out
  // means about 5 s of sleeps asked of the VFS, however fast the machine.
  EXPECT_LT(most_slept_micros, 1'000'000) << "maintenance slept in SQLite's busy handler, waiting for the reader";

  ASSERT_TRUE((*reader)->db().exec("COMMIT").ok());
  write(n + 1);
  auto m = writer_->maintain(crash_ticks::ts_of(n + 1), Retention{});
  EXPECT_TRUE(m.ok()) << m.message();
  EXPECT_LE(wal_size(), kWalBound);
}

}  // namespace
}  // namespace bwalloc
