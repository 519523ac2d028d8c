// Crash-safe history: a writer using the real SqliteStore is killed with
// SIGKILL at random points 1,000 times. After every kill the database must
// pass PRAGMA integrity_check, hold every tick the writer reported as
// committed (so at most the one tick in flight is lost), hold no torn tick,
// and its minute rollup must equal the raw rows it covers (a kill inside
// maintenance never double counts).
//
// The kill points follow the writer's own reports (tick_writer.cpp), not
// the clock, so the cycles kill writes however loaded the machine is. One
// cycle in kStartupKillOneIn kills during start-up (open, migrations, WAL
// recovery) a random moment after the spawn; every other cycle waits for
// the writer's k-th report, k random in [0, kMaxTicksBeforeKill] (0 is
// "opened", k its k-th committed tick), and kills a random moment later
// (inside the next tick, its maintenance, or a few ticks on).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <optional>
#include <random>
#include <string>

#include "agent/store/sqlite_handle.h"
#include "tests/reliability/crash_ticks.h"

extern char** environ;

namespace bwalloc {
namespace {

constexpr int kCycles = 1000;
constexpr int kDevices = 4;
constexpr int kStartupKillOneIn = 8;
constexpr int kMaxStartupKillMicros = 3'000;  // a writer's start-up takes a few ms at most on an idle machine
constexpr int kMaxTicksBeforeKill = 4;
constexpr int kMaxKillDelayMicros = 1'000;  // after the chosen report: about one tick on an idle machine
// Only turns a hung writer into a failure: a working writer reports every
// tick, within a millisecond when the machine is idle.
constexpr int kReportTimeoutMs = 120'000;

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// One tick_writer and the read end of its stdout, split into report lines.
// Killed and reaped when it goes out of scope, so a failed assertion never
// leaves a writer behind (it loops forever otherwise).
class Writer {
 public:
  enum class Next { Report, Exited, Silent };

  explicit Writer(const std::string& db) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    std::string devices = std::to_string(kDevices);
    char* argv[] = {const_cast<char*>(TICK_WRITER_PATH), const_cast<char*>(db.c_str()), devices.data(), nullptr};
    int rc = posix_spawn(&pid_, TICK_WRITER_PATH, &actions, nullptr, argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[1]);
    if (rc != 0) {
      pid_ = -1;
      close(fds[0]);
      return;
    }
    out_ = fds[0];
  }
  ~Writer() {
    if (pid_ > 0) kill_and_reap();
    if (out_ >= 0) close(out_);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  bool started() const { return pid_ > 0; }

  // The writer's next report line. Blocks while the writer works on it (a
  // busy machine only makes that slower); Silent only after kReportTimeoutMs
  // without a byte, Exited at the end of its output (it died by itself, or
  // was killed: then every line it wrote has been returned).
  Next next(std::string& line) {
    for (;;) {
      if (auto end = buffered_.find('\n'); end != std::string::npos) {
        line = buffered_.substr(0, end);
        buffered_.erase(0, end + 1);
        return Next::Report;
      }
      pollfd p{out_, POLLIN, 0};
      int ready = poll(&p, 1, kReportTimeoutMs);
      if (ready < 0 && errno == EINTR) continue;
      if (ready == 0) return Next::Silent;
      char buf[4096];
      ssize_t n = read(out_, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Next::Exited;  // a partial line cannot happen: each report is one small write(2)
      buffered_.append(buf, static_cast<size_t>(n));
    }
  }

  // SIGKILL (a no-op on a writer that already exited) and reap; the wait status.
  int kill_and_reap() {
    kill(pid_, SIGKILL);
    return reap();
  }
  int reap() {
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;  // read end of the writer's stdout
  std::string buffered_;
};

// Busy-waits: a sleep would add the scheduler's wake-up latency (milliseconds
// on a loaded machine) to every kill point, and the writer would write many
// ticks meanwhile, growing the database each cycle inspects.
void spin_for(std::chrono::microseconds delay) {
  const auto until = std::chrono::steady_clock::now() + delay;
  while (std::chrono::steady_clock::now() < until) {
  }
}

// Reads one report: "opened" or the number of the tick just committed.
std::optional<int64_t> tick_in(const std::string& line) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), n);
  if (ec != std::errc{} || end != line.data() + line.size()) return std::nullopt;
  return n;
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
  auto q =
      db->prepare("SELECT COUNT(*), COUNT(DISTINCT ts), COALESCE(MIN(ts), 0), COALESCE(MAX(ts), 0) FROM usage_raw");
  if (q && has_row(q->step())) {
    s.rows = q->int_at(0);
    s.ticks = q->int_at(1);
    s.min_tick = crash_ticks::tick_of(q->int_at(2));
    s.max_tick = crash_ticks::tick_of(q->int_at(3));
  }
  s.torn_ticks = int_or(db->query_int("SELECT COUNT(*) FROM (SELECT ts FROM usage_raw GROUP BY ts HAVING COUNT(*) != " +
                                      std::to_string(kDevices) + ")"),
                        -1);
  s.minute_rx = int_or(db->query_int("SELECT COALESCE(SUM(rx_bytes), 0) FROM usage_minute"), -1);
  s.raw_rx_rolled = int_or(db->query_int("SELECT COALESCE(SUM(rx_bytes), 0) FROM usage_raw WHERE ts < "
                                         "COALESCE((SELECT upto FROM rollup_state WHERE name = 'minute'), 0)"),
                           -1);
  return s;
}

TEST(CrashHistory, ThousandKillsLoseAtMostTheTickInFlight) {
  char tmpl[] = "/tmp/bwh4-crash-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::filesystem::path dir(tmpl);
  const std::string db = (dir / "bwalloc.db").string();
  std::mt19937 rng(20240607);
  std::uniform_int_distribution<int> startup_kill(1, kStartupKillOneIn);
  std::uniform_int_distribution<int> startup_micros(0, kMaxStartupKillMicros);
  std::uniform_int_distribution<int> reports_before_kill(0, kMaxTicksBeforeKill);
  std::uniform_int_distribution<int> delay_micros(0, kMaxKillDelayMicros);

  int64_t reported = 0;          // newest tick any writer reported committed
  int64_t committed = 0;         // newest tick seen in the database
  int64_t ticks_waited_for = 0;  // tick reports the kill points waited for: committed by construction
  int unreported_commits = 0;    // cycles where the tick in flight had committed
  int startup_kills = 0, startup_kills_before_open = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int cycle = 0; cycle < kCycles; ++cycle) {
    // The newest tick this database may hold without a report: one past what
    // was known before this writer (reported or found committed) or reported by it.
    const int64_t known_before = std::max(reported, committed);
    bool opened = false;
    // Each report must be "opened" first, then the ticks after the newest one committed, in order.
    auto take = [&](const std::string& line) -> testing::AssertionResult {
      if (line == "opened") {
        if (opened) return testing::AssertionFailure() << "\"opened\" reported twice";
        opened = true;
        return testing::AssertionSuccess();
      }
      const std::optional<int64_t> tick = tick_in(line);
      if (!tick) return testing::AssertionFailure() << "unreadable report \"" << line << "\"";
      const int64_t expected = std::max(reported, committed) + 1;
      if (!opened || *tick != expected) {
        return testing::AssertionFailure()
               << "report " << line << ", expected " << (opened ? "" : "\"opened\" then ") << expected;
      }
      reported = *tick;
      return testing::AssertionSuccess();
    };

    Writer writer(db);
    ASSERT_TRUE(writer.started()) << "spawn " << TICK_WRITER_PATH;
    if (startup_kill(rng) == 1) {
      ++startup_kills;
      spin_for(std::chrono::microseconds(startup_micros(rng)));
    } else {
      const int k = reports_before_kill(rng);  // wait for "opened" and then k ticks
      const int64_t kill_after = committed + k;
      std::string line;
      while (!opened || reported < kill_after) {
        const Writer::Next next = writer.next(line);
        ASSERT_NE(next, Writer::Next::Silent)
            << "cycle " << cycle << ": the writer reported nothing for " << kReportTimeoutMs / 1000 << " s (it hangs); "
            << (opened ? "last tick reported " + std::to_string(reported) : "store not opened");
        if (next == Writer::Next::Exited) {
          FAIL() << "cycle " << cycle << ": the writer " << describe_status(writer.reap())
                 << " by itself (its stderr is above) before "
                 << (opened ? "tick " + std::to_string(kill_after) : std::string("opening the store"));
        }
        ASSERT_TRUE(take(line)) << "cycle " << cycle;
      }
      ticks_waited_for += k;
      spin_for(std::chrono::microseconds(delay_micros(rng)));
    }
    const int status = writer.kill_and_reap();
    // A writer that exited by itself failed (it loops forever otherwise).
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "cycle " << cycle << ": writer " << describe_status(status) << " (its stderr is above)";
    // Everything it reported before it died.
    for (std::string line; writer.next(line) == Writer::Next::Report;) ASSERT_TRUE(take(line)) << "cycle " << cycle;
    startup_kills_before_open += !opened;

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
  std::cout << "crash cycles: " << kCycles << ", ticks committed: " << committed << " (" << ticks_waited_for
            << " waited for), kills during start-up: " << startup_kills << " (" << startup_kills_before_open
            << " before the store was open), cycles where the tick in flight had committed unreported: "
            << unreported_commits << ", ticks lost: 0, time: " << seconds << " s\n";
  // Both hold by construction of the kill points, however slow the machine:
  // each cycle that waited for k tick reports added k committed ticks.
  EXPECT_GT(ticks_waited_for, kCycles / 10) << "the kill points hardly ever wait for a write";
  EXPECT_GE(committed, ticks_waited_for) << "ticks the writers reported committed are missing";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwalloc
