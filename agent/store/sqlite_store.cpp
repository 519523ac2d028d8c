// SQLite persistence; see sqlite_store.h.
#include "agent/store/sqlite_store.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "agent/common/settled_clock.h"
#include "agent/store/migrations.h"
#include "agent/store/usage_rows.h"

namespace bwalloc {

namespace {
// Rolls back unless committed, so an error anywhere leaves no half tick.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  ~Transaction() {
    if (open_) (void)db_.exec("ROLLBACK");
  }
  [[nodiscard]] Result<void> begin() {
    auto r = db_.exec("BEGIN IMMEDIATE");
    open_ = r.ok();
    return r;
  }
  [[nodiscard]] Result<void> commit() {
    auto r = db_.exec("COMMIT");
    if (r) open_ = false;
    return r;
  }

 private:
  SqliteDb& db_;
  bool open_ = false;
};

const char* table_for(HistoryResolution r) {
  switch (r) {
    case HistoryResolution::Raw:
      return "usage_raw";
    case HistoryResolution::Minute:
      return "usage_minute";
    case HistoryResolution::Hour:
      return "usage_hour";
    case HistoryResolution::Day:
      return "usage_day";
  }
  return "usage_raw";
}

Result<void> fail(const std::string& what, const Result<void>& r) { return Error{what + ": " + r.message()}; }
}  // namespace

Result<std::unique_ptr<SqliteStore>> SqliteStore::open(const std::string& path) {
  auto dir = std::filesystem::path(path).parent_path();
  if (!dir.empty() && !std::filesystem::exists(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Error{"create database directory " + dir.string() + ": " + ec.message()};
    chmod(dir.string().c_str(), 0700);
  }
  auto db = SqliteDb::open(path, false);
  if (!db) return db.error();
  std::unique_ptr<SqliteStore> store(new SqliteStore(std::move(*db)));
  // WAL: readers never block the writer. NORMAL sync is safe in WAL mode (a
  // power cut may lose the last tick, never corrupt the file).
  const std::string size_limit = "PRAGMA journal_size_limit=" + std::to_string(kJournalSizeLimit);
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", size_limit.c_str(), "PRAGMA foreign_keys=ON"}) {
    if (auto r = store->db_.exec(pragma); !r) return Error{"configure database " + path + ": " + r.message()};
  }
  if (auto r = store->migrate(); !r) return Error{"migrate database " + path + ": " + r.message()};
  chmod(path.c_str(), 0600);
  if (auto checkpointer = WalCheckpointer::start(path)) {
    store->checkpointer_ = std::move(*checkpointer);
    // Replaces SQLite's checkpoint inside the commit (a WAL hook is how
    // wal_autocheckpoint works; setting one turns that off).
    sqlite3_wal_hook(
        store->db_.raw(),
        [](void* c, sqlite3*, const char*, int pages) {
          static_cast<WalCheckpointer*>(c)->wal_grew(pages);
          return SQLITE_OK;
        },
        store->checkpointer_.get());
  }
  return store;
}

Result<std::unique_ptr<SqliteStore>> SqliteStore::open_reader(const std::string& path) {
  auto db = SqliteDb::open(path, true);
  if (!db) return db.error();
  return std::unique_ptr<SqliteStore>(new SqliteStore(std::move(*db)));
}

Result<int64_t> SqliteStore::schema_version() { return db_.query_int("PRAGMA user_version"); }

Result<void> SqliteStore::migrate() {
  auto version = schema_version();
  if (!version) return version.error();
  if (*version > static_cast<int64_t>(kMigrations.size())) {
    return Error{"the database has schema version " + std::to_string(*version) + ", newer than this agent knows (" +
                 std::to_string(kMigrations.size()) + "); upgrade bwalloc"};
  }
  for (size_t n = static_cast<size_t>(*version); n < kMigrations.size(); ++n) {
    Transaction tx(db_);
    if (auto r = tx.begin(); !r) return r;
    if (auto r = db_.exec(kMigrations[n]); !r) return Error{"migration " + std::to_string(n + 1) + ": " + r.message()};
    if (auto r = db_.exec("PRAGMA user_version=" + std::to_string(n + 1)); !r) return r;
    if (auto r = tx.commit(); !r) return r;
  }
  return {};
}

Result<void> SqliteStore::write_tick(const TickRecord& record) {
  Transaction tx(db_);
  if (auto r = tx.begin(); !r) return fail("begin tick", r);
  // A tick stamped before the minute rollup's watermark: the wall clock went
  // back (or a tick kept through an outage is written late). Rewind first,
  // or its samples would sit below the watermark, never be rolled up, and
  // be pruned with the raw rows.
  if (auto r = repair_after_backward_step(record.ts_ms); !r) return fail("repair history after a clock step", r);
  if (auto r = insert_usage_rows(db_, record.ts_ms, record.samples); !r) return r;
  if (!record.events.empty()) {
    auto insert = db_.prepare("INSERT INTO events(ts, level, message, actor, ip) VALUES (?, ?, ?, ?, ?)");
    if (!insert) return insert.error();
    for (const auto& e : record.events) {
      int64_t ts = std::chrono::duration_cast<std::chrono::milliseconds>(e.ts.time_since_epoch()).count();
      insert->bind(1, ts).bind(2, event_level_name(e.level)).bind(3, e.message).bind(4, e.actor);
      insert->bind(5, e.device ? e.device->to_string() : std::string());
      if (auto r = insert->run(); !r) return fail("write events", r);
    }
  }
  if (!record.devices.empty()) {
    auto upsert = db_.prepare(
        "INSERT INTO devices(ip, mac, hostname, vendor, priority, manual, first_seen, last_seen) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(ip) DO UPDATE SET "
        "mac = CASE WHEN ?2 = '' THEN mac ELSE ?2 END, hostname = CASE WHEN ?3 = '' THEN hostname ELSE ?3 END, "
        "vendor = CASE WHEN ?4 = '' THEN vendor ELSE ?4 END, priority = ?5, manual = ?6, "
        "first_seen = MIN(first_seen, ?7), last_seen = MAX(MIN(last_seen, ?9), ?8)");
    if (!upsert) return upsert.error();
    for (const auto& d : record.devices) {
      upsert->bind(1, d.ip.to_string()).bind(2, d.mac).bind(3, d.hostname).bind(4, d.vendor);
      upsert->bind(5, static_cast<int64_t>(d.priority)).bind(6, int64_t{d.manual});
      // ?9: a stored last_seen later than this tick was written while the
      // wall clock ran ahead; it must not outrank every sighting from now on.
      upsert->bind(7, d.first_seen_ms).bind(8, d.last_seen_ms).bind(9, record.ts_ms);
      if (auto r = upsert->run(); !r) return fail("write devices", r);
    }
  }
  for (const auto& b : record.blocks) {
    auto insert = db_.prepare(
        "INSERT INTO blocked(ip, reason, ts) VALUES (?, ?, ?) "
        "ON CONFLICT(ip) DO UPDATE SET reason = excluded.reason, ts = excluded.ts");
    if (!insert) return insert.error();
    insert->bind(1, b.ip.to_string()).bind(2, b.reason).bind(3, b.ts_ms);
    if (auto r = insert->run(); !r) return fail("write block", r);
  }
  for (const auto& ip : record.unblocks) {
    auto del = db_.prepare("DELETE FROM blocked WHERE ip = ?");
    if (!del) return del.error();
    del->bind(1, ip.to_string());
    if (auto r = del->run(); !r) return fail("write unblock", r);
  }
  for (const auto& [key, value] : record.config) {
    auto upsert = db_.prepare(
        "INSERT INTO config(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value");
    if (!upsert) return upsert.error();
    upsert->bind(1, key).bind(2, value);
    if (auto r = upsert->run(); !r) return fail("write config", r);
  }
  if (auto r = tx.commit(); !r) return fail("commit tick", r);
  return {};
}

Result<void> SqliteStore::roll_up(const char* from_table, const char* from_ts, const char* to_table, const char* name,
                                  int64_t bucket_ms, int64_t now_ms) {
  auto watermark = db_.prepare("SELECT upto FROM rollup_state WHERE name = ?");
  if (!watermark) return watermark.error();
  watermark->bind(1, std::string_view(name));
  auto row = watermark->step();
  if (!row) return row.error();
  const int64_t from = *row ? watermark->int_at(0) : 0;
  const int64_t to = now_ms / bucket_ms * bucket_ms;  // only complete buckets
  if (to <= from) return {};
  const std::string samples = std::string(from_table) == "usage_raw" ? "1" : "samples";
  auto roll = db_.prepare(std::string("INSERT INTO ") + to_table + "(ip, bucket, rx_bytes, tx_bytes, samples) " +
                          "SELECT ip, (" + from_ts + " / ?3) * ?3, SUM(rx_bytes), SUM(tx_bytes), SUM(" + samples +
                          ") FROM " + from_table + " WHERE " + from_ts + " >= ?1 AND " + from_ts +
                          " < ?2 GROUP BY 1, 2 ON CONFLICT(ip, bucket) DO UPDATE SET "
                          "rx_bytes = rx_bytes + excluded.rx_bytes, tx_bytes = tx_bytes + excluded.tx_bytes, "
                          "samples = samples + excluded.samples");
  if (!roll) return roll.error();
  roll->bind(1, from).bind(2, to).bind(3, bucket_ms);
  if (auto r = roll->run(); !r) return r;
  auto mark = db_.prepare(
      "INSERT INTO rollup_state(name, upto) VALUES (?, ?) "
      "ON CONFLICT(name) DO UPDATE SET upto = excluded.upto");
  if (!mark) return mark.error();
  mark->bind(1, std::string_view(name)).bind(2, to);
  return mark->run();
}

Result<void> SqliteStore::repair_after_backward_step(int64_t now_ms) {
  auto watermark = db_.query_int("SELECT COALESCE((SELECT upto FROM rollup_state WHERE name = 'minute'), 0)");
  if (!watermark) return watermark.error();
  if (*watermark <= now_ms) return {};  // the usual case: time went forward
  // A clock that is not set says nothing about which rows are wrong;
  // repairing against it would stamp the whole history 1970.
  if (now_ms < kMinValidWallMs) return {};
  // The wall clock went back. What was written while it ran ahead carries
  // times still to come: it would sit above every chart and never be rolled
  // up or pruned, and the watermarks would skip what is written now. Those
  // samples happened before now, so they become now; rollup buckets from
  // the current one on are dropped and rebuilt from their sources (raw rows
  // that recent are all still there: retention only prunes older ones).
  for (const char* sql :
       {"UPDATE usage_raw SET ts = ?1 WHERE ts > ?1", "UPDATE events SET ts = ?1 WHERE ts > ?1",
        "UPDATE blocked SET ts = ?1 WHERE ts > ?1", "UPDATE devices SET last_seen = ?1 WHERE last_seen > ?1",
        "UPDATE devices SET first_seen = ?1 WHERE first_seen > ?1"}) {
    auto update = db_.prepare(sql);
    if (!update) return update.error();
    update->bind(1, now_ms);
    if (auto r = update->run(); !r) return r;
  }
  struct Level {
    const char* table;
    const char* name;
    int64_t bucket_ms;
  };
  for (const Level& l : {Level{"usage_minute", "minute", 60'000}, Level{"usage_hour", "hour", 3'600'000},
                         Level{"usage_day", "day", 86'400'000}}) {
    const int64_t cut = now_ms / l.bucket_ms * l.bucket_ms;
    auto drop = db_.prepare(std::string("DELETE FROM ") + l.table + " WHERE bucket >= ?");
    if (!drop) return drop.error();
    drop->bind(1, cut);
    if (auto r = drop->run(); !r) return r;
    auto rewind = db_.prepare("UPDATE rollup_state SET upto = ?2 WHERE name = ?1 AND upto > ?2");
    if (!rewind) return rewind.error();
    rewind->bind(1, std::string_view(l.name)).bind(2, cut);
    if (auto r = rewind->run(); !r) return r;
  }
  return {};
}

Result<void> SqliteStore::maintain(int64_t now_ms, const Retention& retention) {
  if (now_ms < kMinValidWallMs) {
    // Rolling up or pruning against a clock that is not set would treat all
    // of the real history as "in the future" or keep nothing.
    return Error{"the wall clock reads " + std::to_string(now_ms / 1000) +
                 " s since 1970, before 2020: not rolling up or pruning history until the clock is set (NTP?)"};
  }
  {
    Transaction tx(db_);
    if (auto r = tx.begin(); !r) return fail("begin maintenance", r);
    if (auto r = repair_after_backward_step(now_ms); !r) return fail("repair history after a clock step", r);
    if (auto r = roll_up("usage_raw", "ts", "usage_minute", "minute", 60'000, now_ms); !r)
      return fail("minute rollup", r);
    if (auto r = roll_up("usage_minute", "bucket", "usage_hour", "hour", 3'600'000, now_ms); !r)
      return fail("hour rollup", r);
    if (auto r = roll_up("usage_hour", "bucket", "usage_day", "day", 86'400'000, now_ms); !r)
      return fail("day rollup", r);
    // Prune only what has been rolled up (below the next table's watermark).
    struct Prune {
      const char* table;
      const char* ts;
      const char* rolled_into;
      int64_t keep_ms;
    };
    for (const Prune& p : {Prune{"usage_raw", "ts", "minute", retention.raw_ms},
                           Prune{"usage_minute", "bucket", "hour", retention.minute_ms},
                           Prune{"usage_hour", "bucket", "day", retention.hour_ms},
                           Prune{"usage_day", "bucket", nullptr, retention.day_ms}}) {
      std::string sql = std::string("DELETE FROM ") + p.table + " WHERE " + p.ts + " < ?1";
      if (p.rolled_into)
        sql += std::string(" AND ") + p.ts + " < COALESCE((SELECT upto FROM rollup_state WHERE name = '" +
               p.rolled_into + "'), 0)";
      auto del = db_.prepare(sql);
      if (!del) return del.error();
      del->bind(1, now_ms - p.keep_ms);
      if (auto r = del->run(); !r) return fail(std::string("prune ") + p.table, r);
    }
    auto old_events = db_.prepare("DELETE FROM events WHERE ts < ?");
    if (!old_events) return old_events.error();
    old_events->bind(1, now_ms - retention.day_ms);
    if (auto r = old_events->run(); !r) return fail("prune events", r);
    if (auto r = tx.commit(); !r) return fail("commit maintenance", r);
  }
  // Outside the transaction: keeps the WAL file from growing between ticks.
  return checkpoint();
}

Result<void> SqliteStore::checkpoint() {
  // TRUNCATE waits for readers through the busy handler: a reader holding
  // an old snapshot would stall the tick thread for the whole busy timeout
  // every time. Without waiting, SQLite copies what it can and says "busy".
  // Not while the background checkpointer copies: its lock would read as busy.
  std::unique_lock<std::mutex> background;
  if (checkpointer_) background = std::unique_lock(checkpointer_->running());
  sqlite3_busy_timeout(db_.raw(), 0);
  auto q = db_.prepare("PRAGMA wal_checkpoint(TRUNCATE)");
  bool busy = !q.ok();
  if (q) {
    auto row = q->step();
    busy = !row || (*row && q->int_at(0) != 0);
  }
  sqlite3_busy_timeout(db_.raw(), kBusyTimeoutMs);
  if (!busy) return {};
  // A short query that happened to run now is normal; a WAL past the size
  // limit means one reader has held a transaction for a long time, and the
  // WAL grows with every tick until it ends.
  const char* file = sqlite3_db_filename(db_.raw(), "main");
  std::error_code ec;
  const auto wal = std::filesystem::file_size(std::string(file ? file : "") + "-wal", ec);
  if (ec || wal <= static_cast<uintmax_t>(kJournalSizeLimit)) return {};
  return Error{"the write-ahead log is " + std::to_string(wal >> 20) +
               " MiB and cannot be checkpointed: another reader has held a read transaction on " +
               (file ? file : "the database") +
               " for a long time (an sqlite3 shell or a backup?); history is safe and the log shrinks once it ends"};
}

Result<std::vector<DeviceRecord>> SqliteStore::devices() {
  auto q =
      db_.prepare("SELECT ip, mac, hostname, vendor, priority, manual, first_seen, last_seen FROM devices ORDER BY ip");
  if (!q) return q.error();
  std::vector<DeviceRecord> out;
  auto rows = q->for_each_row([&] {
    auto ip = IpAddress::parse(q->text_at(0));
    if (!ip) return;  // never written by us; skip rather than fail the whole list
    int64_t p = q->int_at(4);
    out.push_back(DeviceRecord{*ip, q->text_at(1), q->text_at(2), q->text_at(3),
                               static_cast<Priority>(p >= 0 && p <= 3 ? p : 2), q->int_at(5) != 0, q->int_at(6),
                               q->int_at(7)});
  });
  if (!rows) return rows.error();
  return out;
}

Result<std::vector<BlockRecord>> SqliteStore::blocked() {
  auto q = db_.prepare("SELECT ip, reason, ts FROM blocked ORDER BY ts");
  if (!q) return q.error();
  std::vector<BlockRecord> out;
  auto rows = q->for_each_row([&] {
    auto ip = IpAddress::parse(q->text_at(0));
    if (ip) out.push_back(BlockRecord{*ip, q->text_at(1), q->int_at(2)});
  });
  if (!rows) return rows.error();
  return out;
}

Result<std::vector<StoredUsage>> SqliteStore::recent_usage(size_t limit) {
  // The whole order is the index's, read backwards: no sort of a big tick.
  auto q =
      db_.prepare("SELECT ip, ts, rx_bytes, tx_bytes FROM usage_raw ORDER BY ts DESC, ip DESC, rowid DESC LIMIT ?");
  if (!q) return q.error();
  q->bind(1, static_cast<int64_t>(limit));
  std::vector<StoredUsage> out;
  auto rows = q->for_each_row([&] {
    out.push_back(
        {q->text_at(0), q->int_at(1), static_cast<uint64_t>(q->int_at(2)), static_cast<uint64_t>(q->int_at(3))});
  });
  if (!rows) return rows.error();
  return out;
}

Result<std::vector<StoredEvent>> SqliteStore::recent_events(size_t limit) {
  auto q = db_.prepare("SELECT ts, level, message, actor, ip FROM events ORDER BY id DESC LIMIT ?");
  if (!q) return q.error();
  q->bind(1, static_cast<int64_t>(limit));
  std::vector<StoredEvent> out;
  auto rows = q->for_each_row([&] {
    // A level this version does not know (a newer one wrote it) reads as Info.
    out.push_back({q->int_at(0), parse_event_level(q->text_at(1)).value_or(EventLevel::Info), q->text_at(2),
                   q->text_at(3), q->text_at(4)});
  });
  if (!rows) return rows.error();
  return out;
}

Result<std::vector<StoredUsage>> SqliteStore::history(const std::string& ip, int64_t from_ms, int64_t to_ms,
                                                      HistoryResolution resolution) {
  const bool raw = resolution == HistoryResolution::Raw;
  // Raw rows are indexed by (ts, ip) so that a tick only appends (see
  // migration 2): walk the distinct stored ticks in range, each one index
  // seek, and seek (ts, ip) in each; the cost follows the ticks asked for,
  // not the number of devices. Rollup tables are keyed (ip, bucket).
  auto q =
      raw ? db_.prepare(
                "WITH RECURSIVE tick(ts) AS ("
                "SELECT (SELECT MIN(ts) FROM usage_raw WHERE ts >= ?2) UNION ALL "
                "SELECT (SELECT MIN(ts) FROM usage_raw WHERE ts > tick.ts) FROM tick WHERE tick.ts < ?3) "
                "SELECT u.ip, u.ts, u.rx_bytes, u.tx_bytes FROM tick JOIN usage_raw u ON u.ts = tick.ts AND u.ip = ?1 "
                "WHERE tick.ts < ?3 ORDER BY u.ts ASC, u.rowid ASC LIMIT 100000")
          : db_.prepare(std::string("SELECT ip, bucket, rx_bytes, tx_bytes FROM ") + table_for(resolution) +
                        " WHERE ip = ?1 AND bucket >= ?2 AND bucket < ?3 ORDER BY bucket ASC LIMIT 100000");
  if (!q) return q.error();
  q->bind(1, ip).bind(2, from_ms).bind(3, to_ms);
  std::vector<StoredUsage> out;
  auto rows = q->for_each_row([&] {
    out.push_back(
        {q->text_at(0), q->int_at(1), static_cast<uint64_t>(q->int_at(2)), static_cast<uint64_t>(q->int_at(3))});
  });
  if (!rows) return rows.error();
  return out;
}

Result<std::vector<std::pair<std::string, std::string>>> SqliteStore::config_values() {
  auto q = db_.prepare("SELECT key, value FROM config ORDER BY key");
  if (!q) return q.error();
  std::vector<std::pair<std::string, std::string>> out;
  auto rows = q->for_each_row([&] { out.emplace_back(q->text_at(0), q->text_at(1)); });
  if (!rows) return rows.error();
  return out;
}

void PendingWrites::push(TickRecord record) {
  queue_.push_back(std::move(record));
  while (queue_.size() > max_ticks_) {
    queue_.erase(queue_.begin());
    ++dropped_;
  }
}

Result<void> PendingWrites::flush(SqliteStore& store) {
  size_t written = 0;
  Result<void> result;
  for (; written < queue_.size(); ++written) {
    result = store.write_tick(queue_[written]);
    if (!result) break;
  }
  queue_.erase(queue_.begin(), queue_.begin() + static_cast<long>(written));
  return result;
}

}  // namespace bwalloc
