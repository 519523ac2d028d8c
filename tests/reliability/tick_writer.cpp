// tick_writer: the crash test's victim. Opens the real SqliteStore
// (migrations, WAL recovery) and reports "opened\n" on stdout, then writes
// ticks as fast as it can (with maintenance every 50 ticks, so kills also
// land in rollups and checkpoints) and reports each committed tick as one
// line "<n>\n", each report one write(2) right after the step it reports.
// The parent learns the newest tick the database promised to keep, and
// picks its kill points by the writer's progress rather than by the clock.
// Usage: tick_writer DB_PATH DEVICES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/store/sqlite_store.h"
#include "tests/reliability/crash_ticks.h"

namespace {
// One report, one write(2): a line shorter than PIPE_BUF reaches the pipe
// whole or not at all, so a killed writer never leaves half a line.
bool report(std::string_view line) {
  return write(STDOUT_FILENO, line.data(), line.size()) == static_cast<ssize_t>(line.size());
}
}  // namespace

int main(int argc, char** argv) {
  using namespace bwalloc;
  if (argc != 3) {
    std::fprintf(stderr, "usage: tick_writer DB_PATH DEVICES\n");
    return 2;
  }
  const int devices = std::atoi(argv[2]);
  auto store = SqliteStore::open(argv[1]);
  if (!store) {
    std::fprintf(stderr, "tick_writer: %s\n", store.message().c_str());
    return 1;
  }
  // Continue after the newest tick a previous (killed) writer committed.
  auto newest = (*store)->db().query_int("SELECT COALESCE(MAX(ts), 0) FROM usage_raw");
  if (!newest) {
    std::fprintf(stderr, "tick_writer: %s\n", newest.message().c_str());
    return 1;
  }
  int64_t n = crash_ticks::tick_of(*newest);
  if (!report("opened\n")) return 1;
  for (;;) {
    ++n;
    if (auto w = (*store)->write_tick(crash_ticks::record(n, devices)); !w) {
      std::fprintf(stderr, "tick_writer: tick %lld: %s\n", static_cast<long long>(n), w.message().c_str());
      return 1;
    }
    if (!report(std::to_string(n) + "\n")) return 1;
    if (n % 50 == 0) {
      if (auto m = (*store)->maintain(crash_ticks::ts_of(n), crash_ticks::kRetention); !m) {
        std::fprintf(stderr, "tick_writer: maintain: %s\n", m.message().c_str());
        return 1;
      }
    }
  }
}
