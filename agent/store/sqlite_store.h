// SqliteStore: the agent's history in one SQLite file. One writer (the tick
// thread) in WAL mode with BEGIN IMMEDIATE and one transaction per tick;
// readers (the HTTP side) open their own read-only connections. Raw samples
// are rolled up into minute/hour/day tables and pruned, so the file stays
// bounded; the WAL is checkpointed and size-limited.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/result.h"
#include "agent/store/sqlite_handle.h"
#include "agent/store/store_types.h"
#include "agent/store/wal_checkpointer.h"

namespace bwalloc {

struct Retention {
  int64_t raw_ms = 24 * 3'600'000ll;
  int64_t minute_ms = 7 * 86'400'000ll;
  int64_t hour_ms = 90 * 86'400'000ll;
  int64_t day_ms = 730 * 86'400'000ll;
};

class SqliteStore {
 public:
  // The writer: creates the file (and its directory, 0700) and migrates.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open(const std::string& path);
  // A read-only connection for queries from another thread.
  [[nodiscard]] static Result<std::unique_ptr<SqliteStore>> open_reader(const std::string& path);

  // All of it or nothing: on error the caller keeps the record and retries.
  [[nodiscard]] Result<void> write_tick(const TickRecord& record);
  // Rolls completed buckets up, prunes past retention, checkpoints the WAL.
  // Repairs history first if the wall clock went back (see
  // repair_after_backward_step); refuses (error) while the clock reads
  // before 2020, i.e. is not set.
  // An error after the rollups were committed says why the WAL could not be
  // truncated (a reader holding a long transaction).
  [[nodiscard]] Result<void> maintain(int64_t now_ms, const Retention& retention);

  [[nodiscard]] Result<std::vector<DeviceRecord>> devices();
  [[nodiscard]] Result<std::vector<BlockRecord>> blocked();
  [[nodiscard]] Result<std::vector<StoredUsage>> recent_usage(size_t limit);
  [[nodiscard]] Result<std::vector<StoredEvent>> recent_events(size_t limit);
  // Oldest first; rollup rows carry their bucket start as ts.
  [[nodiscard]] Result<std::vector<StoredUsage>> history(const std::string& ip, int64_t from_ms, int64_t to_ms,
                                                         HistoryResolution resolution);
  [[nodiscard]] Result<std::vector<std::pair<std::string, std::string>>> config_values();
  [[nodiscard]] Result<int64_t> schema_version();

  SqliteDb& db() { return db_; }

 private:
  explicit SqliteStore(SqliteDb db) : db_(std::move(db)) {}
  [[nodiscard]] Result<void> migrate();
  // When `now_ms` is below the minute watermark (the wall clock stepped
  // back): brings rows stamped after now to now and rewinds each rollup to
  // the bucket holding now (dropping those buckets, rebuilt from their
  // sources). Run by write_tick and maintain; nothing to do otherwise.
  [[nodiscard]] Result<void> repair_after_backward_step(int64_t now_ms);
  // Checkpoints and truncates the WAL without waiting for readers; an error
  // names a reader that pins a WAL grown past kJournalSizeLimit.
  [[nodiscard]] Result<void> checkpoint();
  [[nodiscard]] Result<void> roll_up(const char* from_table, const char* from_ts, const char* to_table,
                                     const char* name, int64_t bucket_ms, int64_t now_ms);
  SqliteDb db_;
  // The writer's WAL checkpoints, off the tick thread; null for a reader,
  // or when it could not start (SQLite then checkpoints in the commit).
  // Declared after db_: stopped before the writer's connection closes.
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

// Ticks that failed to write, kept in order for the next attempt; bounded
// so a long outage drops the oldest ticks (counted) instead of memory.
class PendingWrites {
 public:
  explicit PendingWrites(size_t max_ticks) : max_ticks_(max_ticks) {}
  void push(TickRecord record);
  // Writes oldest first; stops at the first failure (kept for next time).
  [[nodiscard]] Result<void> flush(SqliteStore& store);
  size_t size() const { return queue_.size(); }
  uint64_t dropped() const { return dropped_; }

 private:
  size_t max_ticks_;
  std::vector<TickRecord> queue_;
  uint64_t dropped_ = 0;
};

}  // namespace bwalloc
