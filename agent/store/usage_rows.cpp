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

// IpAddress::to_string()'s text without inet_ntop, which formats IPv4
// through printf: a tenth of a 65,536-row write.
std::string address_text(const IpAddress& ip) {
  if (!ip.is_v4()) return ip.to_string();
  char text[16];
  char* end = text;
  for (size_t i = 12; i < 16; ++i) {
    const unsigned octet = ip.bytes()[i];
    if (i > 12) *end++ = '.';
    if (octet >= 100) *end++ = static_cast<char>('0' + octet / 100);
    if (octet >= 10) *end++ = static_cast<char>('0' + octet / 10 % 10);
    *end++ = static_cast<char>('0' + octet % 10);
  }
  return std::string(text, end);
}

// The first 16 bytes of the text, zero-padded, as one big-endian number:
// ordered exactly as the strings are up to a tie (every IPv4 text fits, so
// only long IPv6 texts ever tie), and compared in one step.
unsigned __int128 prefix_key(const std::string& text) {
  unsigned __int128 key = 0;
  for (size_t i = 0; i < 16; ++i) key = (key << 8) | (i < text.size() ? static_cast<uint8_t>(text[i]) : 0u);
  return key;
}

// Positions in `rows` in the index's (ts, ip) order: written in that order,
// every row lands at the index's right edge (unsorted, the tick's rows took
// four times as long).
std::vector<uint32_t> ip_text_order(const std::vector<Row>& rows) {
  struct Keyed {
    unsigned __int128 key;
    uint32_t row;
  };
  std::vector<Keyed> keyed;
  keyed.reserve(rows.size());
  for (uint32_t i = 0; i < rows.size(); ++i) keyed.push_back(Keyed{prefix_key(rows[i].ip), i});
  std::sort(keyed.begin(), keyed.end(), [&rows](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key < b.key;
    return rows[a.row].ip < rows[b.row].ip;
  });
  std::vector<uint32_t> order;
  order.reserve(rows.size());
  for (const Keyed& k : keyed) order.push_back(k.row);
  return order;
}
}  // namespace

Result<void> insert_usage_rows(SqliteDb& db, int64_t ts_ms, const std::vector<UsageSample>& samples) {
  std::vector<Row> rows;
  rows.reserve(samples.size());
  for (const auto& s : samples) {
    rows.push_back(Row{address_text(s.ip), static_cast<int64_t>(s.rx_bytes), static_cast<int64_t>(s.tx_bytes)});
  }
  const auto order = ip_text_order(rows);
  auto write_chunk = [&](SqliteStatement& insert, size_t first, size_t count) -> Result<void> {
    for (size_t i = 0; i < count; ++i) {
      const Row& row = rows[order[first + i]];
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
