// WalCheckpointer: copies the writer's WAL back into the database file from
// its own connection and thread. SQLite's automatic checkpoint runs inside
// the commit that crosses 1,000 WAL pages, with two fsyncs; a 65,536-device
// tick crosses it every time, and that copy was half of the tick's write.
// The writer's commit now only signals (see SqliteStore::open); nothing is
// lost by a checkpoint that lags: until copied, pages are read from the WAL.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/common/result.h"
#include "agent/store/sqlite_handle.h"

namespace bwalloc {

class WalCheckpointer {
 public:
  // Opens a second read-write connection to `path` (already in WAL mode).
  [[nodiscard]] static Result<std::unique_ptr<WalCheckpointer>> start(const std::string& path);
  ~WalCheckpointer();  // stops and joins; a checkpoint under way completes first
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // From the writer's commit: the WAL holds this many pages. Never blocks.
  void wal_grew(int pages);
  // Held while a checkpoint runs: the writer's own TRUNCATE checkpoint takes
  // it so the two never meet and read each other's lock as a stuck reader.
  std::mutex& running() { return running_; }

 private:
  explicit WalCheckpointer(SqliteDb db) : db_(std::move(db)) {}
  void run();

  SqliteDb db_;  // used only by thread_
  std::mutex running_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace bwalloc
