// History queries on the store's reader connection; see store_history.h.
#include "agent/runtime/store_history.h"

namespace bwalloc {

template <class Row, class Query, class Convert>
Result<std::vector<Row>> StoreHistory::read_rows(Query query, Convert convert) const {
  std::lock_guard lock(mutex_);
  if (!reader_) {
    auto opened = SqliteStore::open_reader(store_path_);
    if (!opened) return opened.error();
    reader_ = std::move(*opened);
  }
  auto rows = query(*reader_);
  if (!rows) return rows.error();
  std::vector<Row> out;
  for (const auto& r : *rows) {
    if (std::optional<Row> row = convert(r)) out.push_back(std::move(*row));
  }
  return out;
}

Result<std::vector<UsageRow>> StoreHistory::recent_usage(size_t limit) const {
  return read_rows<UsageRow>([&](SqliteStore& db) { return db.recent_usage(limit); },
                             [](const StoredUsage& r) -> std::optional<UsageRow> {
                               auto ip = IpAddress::parse(r.ip);
                               if (!ip) return std::nullopt;
                               return UsageRow{*ip, r.ts_ms, r.down_bytes, r.up_bytes};
                             });
}

Result<std::vector<Event>> StoreHistory::recent_events(size_t limit) const {
  return read_rows<Event>([&](SqliteStore& db) { return db.recent_events(limit); },
                          [](const StoredEvent& r) -> std::optional<Event> {
                            Event e{std::chrono::system_clock::time_point(std::chrono::milliseconds(r.ts_ms)), r.level,
                                    r.message, r.actor, std::nullopt};
                            if (auto ip = IpAddress::parse(r.ip); ip) e.device = *ip;
                            return e;
                          });
}

Result<std::vector<HistoryPoint>> StoreHistory::history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                                        HistoryResolution resolution) const {
  return read_rows<HistoryPoint>(
      [&](SqliteStore& db) { return db.history(ip.to_string(), from_ms, to_ms, resolution); },
      [](const StoredUsage& r) -> std::optional<HistoryPoint> {
        return HistoryPoint{r.ts_ms, r.down_bytes, r.up_bytes};
      });
}

Result<std::vector<BlockedEntry>> StoreHistory::blocked() const {
  return read_rows<BlockedEntry>([](SqliteStore& db) { return db.blocked(); },
                                 [](const BlockRecord& b) -> std::optional<BlockedEntry> {
                                   return BlockedEntry{b.ip, b.reason, b.ts_ms};
                                 });
}

}  // namespace bwalloc
