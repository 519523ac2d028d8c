// StoreHistory: the HistoryQueries served from the store's own read-only
// connection, opened on first use. It shares nothing with the tick thread
// but the database file, whose path is fixed at construction.
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/api/history_queries.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {

class StoreHistory final : public HistoryQueries {
 public:
  explicit StoreHistory(std::string store_path) : store_path_(std::move(store_path)) {}

  Result<std::vector<UsageRow>> recent_usage(size_t limit) const override;
  Result<std::vector<Event>> recent_events(size_t limit) const override;
  Result<std::vector<HistoryPoint>> history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                            HistoryResolution resolution) const override;
  Result<std::vector<BlockedEntry>> blocked() const override;

 private:
  // Runs a query on the reader connection (one query at a time) and
  // converts its rows, leaving out those that do not convert.
  template <class Row, class Query, class Convert>
  Result<std::vector<Row>> read_rows(Query query, Convert convert) const;

  const std::string store_path_;
  mutable std::mutex mutex_;  // guards reader_ and its use
  mutable std::unique_ptr<SqliteStore> reader_;
};

}  // namespace bwalloc
