// Crash-safe history: a writer using the real SqliteStore is killed with
// SIGKILL at random points 1,000 times. After every kill the database must
// pass PRAGMA integrity_check, hold every tick the writer reported as
// committed (so at most the one tick in flight is lost), hold no torn tick,
// and its minute rollup must equal the raw rows it covers (a kill inside
// maintenance never double counts).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "agent/store/sqlite_handle.h"
#include "tests/reliability/crash_ticks.h"

extern char** environ;

namespace bwalloc {
namespace {

constexpr int kCycles = 1000;
constexpr int kDevices = 4;
constexpr int kMaxRunMicros = 12'000;  // each writer lives 0-12 ms: open, migrate, recover, write

struct Child {
  pid_t pid = -1;
  int out = -1;  // read end of the writer's stdout
};

Child spawn_writer(const std::string& db) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::string devices = std::to_string(kDevices);
  char* argv[] = {const_cast<char*>(TICK_WRITER_PATH), const_cast<char*>(db.c_str()), devices.data(), nullptr};
  pid_t pid = -1;
  int rc = posix_spawn(&pid, TICK_WRITER_PATH, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return {};
  }
  return Child{pid, fds[0]};
}

// Everything the writer reported before it died: the last full line.
int64_t last_reported(int fd, int64_t previous) {
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
  close(fd);
  auto end = all.rfind('\n');
  if (end == std::string::npos) return previous;
  auto start = all.rfind('\n', end - 1);
  start = start == std::string::npos ? 0 : start + 1;
  return std::stoll(all.substr(start, end - start));
}

bool has_row(Result<bool> r) { return r.ok() && *r; }
int64_t int_or(Result<int64_t> r, int64_t fallback) { return r.ok() ? *r : fallback; }

struct DbState {
  std::string integrity;
  int64_t rows = 0, ticks = 0, min_tick = 0, max_tick = 0;
  int64_t torn_ticks = 0;
  int64_t minute_rx = 0, raw_rx_rolled = 0;
};

DbState inspect(const std::string& path) {
  DbState s;
  auto db = SqliteDb::open(path, false);
  if (!db) {
    s.integrity = db.message();
    return s;
  }
  auto check = db->prepare("PRAGMA integrity_check");
  if (!check || !has_row(check->step())) {
    s.integrity = "integrity_check did not run: " + db->last_error();
    return s;
  }
  s.integrity = check->text_at(0);
  // A writer killed during its first migration leaves no tables yet.
  if (int_or(db->query_int("PRAGMA user_version"), 0) == 0) return s;
  auto q = db->prepare("SELECT COUNT(*), COUNT(DISTINCT ts), COALESCE(MIN(ts), 0), COALESCE(MAX(ts), 0) FROM usage_raw");
  if (q && has_row(q->step())) {
    s.rows = q->int_at(0);
    s.ticks = q->int_at(1);
    s.min_tick = crash_ticks::tick_of(q->int_at(2));
    s.max_tick = crash_ticks::tick_of(q->int_at(3));
  }
  s.torn_ticks = int_or(db->query_int("SELECT COUNT(*) FROM (SELECT ts FROM usage_raw GROUP BY ts HAVING COUNT(*) != " +
                               std::to_string(kDevices) + ")"), -1);
  s.minute_rx = int_or(db->query_int("SELECT COALESCE(SUM(rx_bytes), 0) FROM usage_minute"), -1);
  s.raw_rx_rolled = int_or(db->query_int("SELECT COALESCE(SUM(rx_bytes), 0) FROM usage_raw WHERE ts < "
                                  "COALESCE((SELECT upto FROM rollup_state WHERE name = 'minute'), 0)"), -1);
  return s;
}

TEST(CrashHistory, ThousandKillsLoseAtMostTheTickInFlight) {
  char tmpl[] = "/tmp/bwh4-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir(tmpl);
  const std::string db = (dir / "bwalloc.db").string();
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<int> run_micros(0, kMaxRunMicros);

  int64_t reported = 0;     // newest tick any writer reported committed
  int64_t committed = 0;    // newest tick seen in the database
  int unreported_commits = 0;  // cycles where the tick in flight had committed
  const auto started = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    Child child = spawn_writer(db);
    ASSERT_GT(child.pid, 0) << "spawn " << TICK_WRITER_PATH;
    std::this_thread::sleep_for(std::chrono::microseconds(run_micros(rng)));
    ASSERT_EQ(kill(child.pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child.pid, &status, 0), child.pid);
    // A writer that exited by itself failed (it loops forever otherwise).
    ASSERT_TRUE(WIFSIGNALED(status)) << "cycle " << cycle << ": writer exited with " << WEXITSTATUS(status);
    // The newest tick this database may hold without a report: one past what
    // was known before this writer (reported or found committed) or reported by it.
    const int64_t known_before = std::max(reported, committed);
    reported = last_reported(child.out, reported);

    DbState s = inspect(db);
    ASSERT_EQ(s.integrity, "ok") << "cycle " << cycle;
    ASSERT_EQ(s.torn_ticks, 0) << "cycle " << cycle << ": a tick with a partial set of samples";
    ASSERT_GE(s.max_tick, reported) << "cycle " << cycle << ": a reported commit is missing";
    ASSERT_LE(s.max_tick, std::max(reported, known_before) + 1)
        << "cycle " << cycle << ": more than the tick in flight was unreported";
    ASSERT_GE(s.max_tick, committed) << "cycle " << cycle << ": a committed tick disappeared";
    if (s.max_tick > 0) {
      ASSERT_EQ(s.min_tick, 1) << "cycle " << cycle;
      ASSERT_EQ(s.ticks, s.max_tick) << "cycle " << cycle << ": a gap in the ticks";
      ASSERT_EQ(s.rows, s.max_tick * kDevices) << "cycle " << cycle;
    }
    ASSERT_EQ(s.minute_rx, s.raw_rx_rolled) << "cycle " << cycle << ": minute rollup differs from its raw rows";
    unreported_commits += s.max_tick > std::max(reported, known_before);
    committed = s.max_tick;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "crash cycles: " << kCycles << ", ticks committed: " << committed
            << ", cycles where the tick in flight had committed unreported: " << unreported_commits
            << ", ticks lost: 0, time: " << seconds << " s\n";
  EXPECT_GT(committed, kCycles / 10) << "the writer hardly ever got to write: the kill points are not exercising writes";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwalloc
