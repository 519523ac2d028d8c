// A full disk under the history: the database sits on a tiny tmpfs that a
// filler file fills up. The real agent (simulator datapath, fake clock)
// must log the failure once, keep ticking and shaping with the ticks kept
// pending, and when the filler is deleted write every pending tick: no tick
// lost, integrity_check ok.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace bwalloc {
namespace {

// A tmpfs mounted for the test and unmounted (lazily, so a leaked file
// handle cannot keep it) when the test ends, passed or failed.
class TinyTmpfs {
 public:
  explicit TinyTmpfs(const char* size) {
    char tmpl[] = "/tmp/bwh4-full-XXXXXX";
    if (!mkdtemp(tmpl)) {
      error_ = std::string("mkdtemp: ") + std::strerror(errno);
      return;
    }
    dir_ = tmpl;
    if (mount("bwh4-full", tmpl, "tmpfs", MS_NOSUID | MS_NODEV, (std::string("size=") + size).c_str()) != 0) {
      error_ = std::string("mount tmpfs: ") + std::strerror(errno);
      return;
    }
    mounted_ = true;
  }
  ~TinyTmpfs() {
    if (mounted_) umount2(dir_.c_str(), MNT_DETACH);
    if (!dir_.empty()) rmdir(dir_.c_str());
  }
  bool ok() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string error_;
  bool mounted_ = false;
};

// Writes until the file system says no more: big chunks, then single bytes.
uintmax_t fill(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  std::setvbuf(f, nullptr, _IONBF, 0);
  std::string chunk(64 << 10, 'x');
  uintmax_t written = 0;
  for (size_t size = chunk.size(); size > 0; size /= 2) {
    while (std::fwrite(chunk.data(), 1, size, f) == size) written += size;
    std::clearerr(f);
  }
  std::fclose(f);
  return written;
}

TEST(DiskFull, AgentKeepsTicksPendingAndWritesThemAllWhenSpaceReturns) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
  TinyTmpfs fs("8m");  // room for the WAL between checkpoints (4 MiB), not for the filler too
  if (!fs.ok()) GTEST_SKIP() << "cannot make a tmpfs for the full-disk test: " << fs.error();
  const std::string db = fs.dir() + "/bwalloc.db";
  const std::string filler = fs.dir() + "/filler";

  FakeClock clock;
  SimulatorDatapath datapath(clock, 8, 7);
  AgentParts parts;
  parts.config.store.path = db;
  parts.datapath = &datapath;
  auto store = SqliteStore::open(db);
  ASSERT_TRUE(store.ok()) << store.message();
  parts.store = std::move(*store);
  parts.clock = &clock;
  Agent agent(std::move(parts));
  ASSERT_TRUE(agent.restore().ok());

  std::set<int64_t> tick_times;
  auto tick = [&] {
    clock.advance(std::chrono::seconds(1));
    tick_times.insert(
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.wall_now().time_since_epoch()).count());
    agent.tick();
  };
  // 60 ticks: the 60th runs maintenance, which truncates the WAL to nothing,
  // so the next write needs fresh blocks from the file system.
  for (int i = 0; i < 60; ++i) tick();
  ASSERT_TRUE(agent.snapshot()->health.db_ok) << agent.snapshot()->health.db_error;
  ASSERT_GT(fill(filler), 0u);

  ::testing::internal::CaptureStderr();
  for (int i = 0; i < 70; ++i) tick();  // maintenance at tick 120 fails too
  auto during = agent.snapshot();
  std::filesystem::remove(filler);
  tick();
  const std::string log = ::testing::internal::GetCapturedStderr();
  auto after = agent.snapshot();

  EXPECT_FALSE(during->health.db_ok);
  EXPECT_NE(during->health.db_error.find("full"), std::string::npos) << during->health.db_error;
  EXPECT_EQ(during->health.pending_db_ticks, 70u);
  EXPECT_EQ(during->health.ticks, 130u) << "the agent stopped ticking";
  // Shaping went on: the allocator still ran and the datapath has policies
  // (the simulator's heavy downloaders are at Low).
  int low = 0;
  for (const auto& d : during->devices) low += d.priority == Priority::Low;
  EXPECT_GT(low, 0);
  // Logged once when writes failed and once when they worked again.
  size_t failed_lines = 0;
  for (size_t at = 0; (at = log.find("database write failed", at)) != std::string::npos; ++at) ++failed_lines;
  EXPECT_EQ(failed_lines, 1u) << log;
  EXPECT_NE(log.find("database writes work again"), std::string::npos) << log;

  EXPECT_TRUE(after->health.db_ok) << after->health.db_error;
  EXPECT_EQ(after->health.pending_db_ticks, 0u);
  auto check = SqliteDb::open(db, false);
  ASSERT_TRUE(check.ok());
  auto integrity = check->prepare("PRAGMA integrity_check");
  ASSERT_TRUE(integrity.ok());
  ASSERT_TRUE(*integrity->step());
  EXPECT_EQ(integrity->text_at(0), "ok");
  // Every tick (the simulator gives every tick traffic) is in the history.
  std::set<int64_t> stored;
  auto q = check->prepare("SELECT DISTINCT ts FROM usage_raw");
  ASSERT_TRUE(q.ok());
  ASSERT_TRUE(q->for_each_row([&] { stored.insert(q->int_at(0)); }).ok());
  std::vector<int64_t> missing;
  std::set_difference(tick_times.begin(), tick_times.end(), stored.begin(), stored.end(), std::back_inserter(missing));
  // The first tick only sets the counter baselines: it has no samples.
  EXPECT_EQ(missing.size(), 1u);
  if (!missing.empty()) {
    EXPECT_EQ(missing.front(), *tick_times.begin());
  }
  EXPECT_EQ(stored.size(), tick_times.size() - 1);
}

}  // namespace
}  // namespace bwalloc
