// Thin RAII owners of a SQLite connection and statement, with errors as
// Result values carrying SQLite's own message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "agent/common/result.h"

namespace bwalloc {

// How long a statement waits for a lock held by another connection.
inline constexpr int kBusyTimeoutMs = 5000;
// The WAL is truncated to this after a checkpoint (PRAGMA journal_size_limit).
inline constexpr int64_t kJournalSizeLimit = 16 << 20;

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  SqliteStatement(SqliteStatement&& o) noexcept : db_(o.db_), stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStatement& operator=(SqliteStatement&&) = delete;
  ~SqliteStatement() { sqlite3_finalize(stmt_); }

  SqliteStatement& bind(int index, int64_t v) {
    sqlite3_bind_int64(stmt_, index, v);
    return *this;
  }
  SqliteStatement& bind(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW -> true, SQLITE_DONE -> false, anything else -> error.
  [[nodiscard]] Result<bool> step();
  [[nodiscard]] Result<void> run();  // step to completion, then reset for reuse
  // Calls on_row for each result row (read it with int_at/text_at).
  template <class OnRow>
  [[nodiscard]] Result<void> for_each_row(OnRow on_row) {
    for (;;) {
      auto row = step();
      if (!row) return row.error();
      if (!*row) return {};
      on_row();
    }
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

  int64_t int_at(int col) const { return sqlite3_column_int64(stmt_, col); }
  std::string text_at(int col) const {
    auto* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : "";
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  [[nodiscard]] static Result<SqliteDb> open(const std::string& path, bool read_only);
  SqliteDb(SqliteDb&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  SqliteDb& operator=(SqliteDb&&) = delete;
  ~SqliteDb() { sqlite3_close_v2(db_); }

  [[nodiscard]] Result<void> exec(const std::string& sql);
  [[nodiscard]] Result<SqliteStatement> prepare(const std::string& sql);
  [[nodiscard]] Result<int64_t> query_int(const std::string& sql);
  std::string last_error() const { return sqlite3_errmsg(db_); }
  sqlite3* raw() { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace bwalloc
