// The schema as numbered migrations: migration N brings the database from
// user_version N-1 to N, each in its own transaction. Never edit a shipped
// migration; add the next one.
#pragma once

#include <array>

namespace bwalloc {

inline constexpr std::array<const char*, 2> kMigrations = {
    // 1: the original system's tables, plus rollups and bookkeeping.
    R"sql(
CREATE TABLE devices (
  ip TEXT PRIMARY KEY,
  mac TEXT NOT NULL DEFAULT '',
  hostname TEXT NOT NULL DEFAULT '',
  vendor TEXT NOT NULL DEFAULT '',
  priority INTEGER NOT NULL DEFAULT 2,
  manual INTEGER NOT NULL DEFAULT 0,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL
);
CREATE TABLE usage_raw (
  ip TEXT NOT NULL,
  ts INTEGER NOT NULL,
  rx_bytes INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL
);
CREATE INDEX usage_raw_ts ON usage_raw(ts);
CREATE INDEX usage_raw_ip_ts ON usage_raw(ip, ts);
CREATE TABLE usage_minute (ip TEXT NOT NULL, bucket INTEGER NOT NULL, rx_bytes INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (ip, bucket)) WITHOUT ROWID;
CREATE TABLE usage_hour (ip TEXT NOT NULL, bucket INTEGER NOT NULL, rx_bytes INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (ip, bucket)) WITHOUT ROWID;
CREATE TABLE usage_day (ip TEXT NOT NULL, bucket INTEGER NOT NULL, rx_bytes INTEGER NOT NULL,
  tx_bytes INTEGER NOT NULL, samples INTEGER NOT NULL, PRIMARY KEY (ip, bucket)) WITHOUT ROWID;
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  ts INTEGER NOT NULL,
  level TEXT NOT NULL CHECK (level IN ('INFO', 'ALERT', 'AUTO', 'ADMIN', 'ERROR')),
  message TEXT NOT NULL,
  actor TEXT NOT NULL DEFAULT '',
  ip TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_ts ON events(ts);
CREATE TABLE blocked (ip TEXT PRIMARY KEY, reason TEXT NOT NULL DEFAULT '', ts INTEGER NOT NULL);
CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Rollup watermarks: everything before 'upto' has been rolled into that table.
CREATE TABLE rollup_state (name TEXT PRIMARY KEY, upto INTEGER NOT NULL);
)sql",
    // 2: raw samples indexed by (ts, ip) alone. An (ip, ts) index put each
    // tick's row of every device on a different leaf, so a tick rewrote
    // the whole index (65,536 devices: most of a 400 ms tick, growing with
    // the history kept); under (ts, ip) a tick appends at the right edge.
    // Rollups, pruning and the newest rows read it by ts; one device's raw
    // history seeks (ts, ip) once per stored tick (see SqliteStore::history).
    R"sql(
DROP INDEX IF EXISTS usage_raw_ip_ts;
DROP INDEX IF EXISTS usage_raw_ts;
CREATE INDEX usage_raw_ts_ip ON usage_raw(ts, ip);
)sql",
};

}  // namespace bwalloc
