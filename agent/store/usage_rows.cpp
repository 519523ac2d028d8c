// Raw usage rows; see usage_rows.h.
#include "agent/store/usage_rows.h"

#include <algorithm>
#include <string>
#include <utility>

namespace bwalloc {

namespace {
// Rows per INSERT statement. One row per statement spent half its time
// starting and ending statements and seeking the index from its root each
// row; 64 rows halve a 65,536-row tick and more gain nothing.
constexpr size_t kRowsPerInsert = 64;

std::string insert_sql(size_t rows) {
  std::string sql = "INSERT INTO usage_raw(ip, ts, rx_bytes, tx_bytes) VALUES ";
  for (size_t i = 0; i < rows; ++i) sql += i ? ",(?,?,?,?)" : "(?,?,?,?)";
  return sql;
}

struct Row {
  std::string ip;
  int64_t rx_bytes;
  int64_t tx_bytes;
};

// The first 16 bytes of the text, zero-padded, as one big-endian number:
// ordered exactly as the strings are up to a tie (every IPv4 text fits,
// so only long IPv6 texts ever tie). Sorting 65,536 strings by comparing
// them cost more than the inserts it saved.
unsigned __int128 prefix_key(const std::string& text) {
  unsigned __int128 key = 0;
  for (size_t i = 0; i < 16; ++i) key = (key << 8) | (i < text.size() ? static_cast<uint8_t>(text[i]) : 0u);
  return key;
}

// In the index's (ts, ip) order, so every row lands at its right edge.
std::vector<Row> by_ip_text(const std::vector<UsageSample>& samples) {
  struct Keyed {
    unsigned __int128 key;
    uint32_t row;
  };
  std::vector<Row> text;
  std::vector<Keyed> order;
  text.reserve(samples.size());
  order.reserve(samples.size());
  for (const auto& s : samples) {
    text.push_back(Row{s.ip.to_string(), static_cast<int64_t>(s.rx_bytes), static_cast<int64_t>(s.tx_bytes)});
    order.push_back(Keyed{prefix_key(text.back().ip), static_cast<uint32_t>(order.size())});
  }
  std::sort(order.begin(), order.end(), [&text](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key < b.key;
    return text[a.row].ip < text[b.row].ip;
  });
  std::vector<Row> rows;
  rows.reserve(samples.size());
  for (const Keyed& k : order) rows.push_back(std::move(text[k.row]));
  return rows;
}
}  // namespace

Result<void> insert_usage_rows(SqliteDb& db, int64_t ts_ms, const std::vector<UsageSample>& samples) {
  const auto rows = by_ip_text(samples);
  auto write_chunk = [&](SqliteStatement& insert, size_t first, size_t count) -> Result<void> {
    for (size_t i = 0; i < count; ++i) {
      const Row& row = rows[first + i];
      const int at = static_cast<int>(i) * 4;
      insert.bind(at + 1, row.ip).bind(at + 2, ts_ms).bind(at + 3, row.rx_bytes).bind(at + 4, row.tx_bytes);
    }
    if (auto r = insert.run(); !r) return Error{"write samples: " + r.message()};
    return {};
  };
  const size_t whole = rows.size() / kRowsPerInsert * kRowsPerInsert;
  if (whole > 0) {
    auto full = db.prepare(insert_sql(kRowsPerInsert));
    if (!full) return full.error();
    for (size_t first = 0; first < whole; first += kRowsPerInsert) {
      if (auto r = write_chunk(*full, first, kRowsPerInsert); !r) return r;
    }
  }
  if (whole < rows.size()) {
    auto tail = db.prepare(insert_sql(rows.size() - whole));
    if (!tail) return tail.error();
    if (auto r = write_chunk(*tail, whole, rows.size() - whole); !r) return r;
  }
  return {};
}

}  // namespace bwalloc
