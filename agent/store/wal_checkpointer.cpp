// Background WAL checkpoints; see wal_checkpointer.h.
#include "agent/store/wal_checkpointer.h"

namespace bwalloc {

namespace {
// SQLite's own default threshold (PRAGMA wal_autocheckpoint).
constexpr int kCheckpointPages = 1000;
}  // namespace

Result<std::unique_ptr<WalCheckpointer>> WalCheckpointer::start(const std::string& path) {
  auto db = SqliteDb::open(path, false);
  if (!db) return db.error();
  // A fresh connection has not read the file, and a checkpoint on it is a
  // silent no-op until it has seen that the database is in WAL mode.
  auto mode = db->prepare("PRAGMA journal_mode");
  if (!mode) return mode.error();
  auto row = mode->step();
  if (!row) return row.error();
  if (!*row || mode->text_at(0) != "wal") return Error{"background checkpoints: " + path + " is not in WAL mode"};
  mode->reset();
  // PASSIVE never waits for readers or the writer; no busy waits either.
  sqlite3_busy_timeout(db->raw(), 0);
  std::unique_ptr<WalCheckpointer> checkpointer(new WalCheckpointer(std::move(*db)));
  checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->run(); });
  return checkpointer;
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::wal_grew(int pages) {
  if (pages < kCheckpointPages) return;
  {
    std::lock_guard lock(mutex_);
    requested_ = true;
  }
  wake_.notify_one();
}

void WalCheckpointer::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return requested_ || stop_; });
      if (stop_) return;
      requested_ = false;
    }
    std::lock_guard busy(running_);
    // Errors are left for the next request and for the writer's own
    // checkpoint in maintenance, which reports a WAL that cannot shrink.
    (void)sqlite3_wal_checkpoint_v2(db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  }
}

}  // namespace bwalloc
