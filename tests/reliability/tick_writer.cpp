// tick_writer: the crash test's victim. Writes ticks through the real
// SqliteStore as fast as it can (with maintenance every 50 ticks, so kills
// also land in rollups and checkpoints) and reports each committed tick on
// stdout as one line "<n>\n" written with write(2) right after the commit,
// so the parent knows the newest tick the database promised to keep.
// Usage: tick_writer DB_PATH DEVICES
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "agent/store/sqlite_store.h"
#include "tests/reliability/crash_ticks.h"

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
  for (;;) {
    ++n;
    if (auto w = (*store)->write_tick(crash_ticks::record(n, devices)); !w) {
      std::fprintf(stderr, "tick_writer: tick %lld: %s\n", static_cast<long long>(n), w.message().c_str());
      return 1;
    }
    std::string line = std::to_string(n) + "\n";
    if (write(STDOUT_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size())) return 1;
    if (n % 50 == 0) {
      if (auto m = (*store)->maintain(crash_ticks::ts_of(n), crash_ticks::kRetention); !m) {
        std::fprintf(stderr, "tick_writer: maintain: %s\n", m.message().c_str());
        return 1;
      }
    }
  }
}
