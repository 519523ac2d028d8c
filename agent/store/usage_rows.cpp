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

// One row to write, with the first 16 bytes of its address text, zero-
// padded, as one big-endian number: ordered exactly as the texts are up to
// a tie (every IPv4 text fits, so only long IPv6 texts ever tie), compared
// in one step, and (when the text fits) bound from here. The rows are
// written from this array in sorted order; reaching back into the texts at
// random cost a cache miss a row.
struct Keyed {
  unsigned __int128 key;
  int64_t down_bytes;
  int64_t up_bytes;
  uint32_t text;    // index of the whole text
  uint32_t length;  // of the text
};

unsigned __int128 prefix_key(const std::string& text) {
  unsigned __int128 key = 0;
  for (size_t i = 0; i < 16; ++i) key = (key << 8) | (i < text.size() ? static_cast<uint8_t>(text[i]) : 0u);
  return key;
}

// In the index's (ts, ip) order: written so, every row lands at the
// index's right edge (unsorted, the tick's rows took four times as long).
std::vector<Keyed> in_ip_text_order(const std::vector<UsageSample>& samples, std::vector<std::string>& texts) {
  texts.reserve(samples.size());
  std::vector<Keyed> rows;
  rows.reserve(samples.size());
  for (const auto& s : samples) {
    texts.push_back(address_text(s.ip));
    rows.push_back(Keyed{prefix_key(texts.back()), static_cast<int64_t>(s.down_bytes), static_cast<int64_t>(s.up_bytes),
                         static_cast<uint32_t>(texts.size() - 1), static_cast<uint32_t>(texts.back().size())});
  }
  std::sort(rows.begin(), rows.end(), [&texts](const Keyed& a, const Keyed& b) {
    if (a.key != b.key) return a.key < b.key;
    return texts[a.text] < texts[b.text];
  });
  return rows;
}
}  // namespace

Result<void> insert_usage_rows(SqliteDb& db, int64_t ts_ms, const std::vector<UsageSample>& samples) {
  std::vector<std::string> texts;
  const std::vector<Keyed> rows = in_ip_text_order(samples, texts);
  auto write_chunk = [&](SqliteStatement& insert, size_t first, size_t count) -> Result<void> {
    for (size_t i = 0; i < count; ++i) {
      const Keyed& row = rows[first + i];
      const int at = static_cast<int>(i) * 4;
      if (row.length <= 16) {
        char text[16];
        for (size_t c = 0; c < row.length; ++c) text[c] = static_cast<char>(row.key >> (8 * (15 - c)));
        insert.bind(at + 1, std::string_view(text, row.length));  // copied by SQLite (SQLITE_TRANSIENT)
      } else {
        insert.bind(at + 1, texts[row.text]);
      }
      insert.bind(at + 2, ts_ms).bind(at + 3, row.down_bytes).bind(at + 4, row.up_bytes);
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
