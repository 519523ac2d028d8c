// A tick's raw rows: every sample written once, under the address text the
// rest of the agent queries by (IpAddress::to_string), whatever their order.
#include "agent/store/usage_rows.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "agent/store/sqlite_store.h"

namespace bwalloc {
namespace {

TEST(UsageRows, EveryRowIsStoredUnderItsAddressText) {
  const auto dir = std::filesystem::temp_directory_path() / ("bwalloc-rows-" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  auto store = SqliteStore::open((dir / "bwalloc.db").string());
  ASSERT_TRUE(store.ok()) << store.message();

  // Octets of one, two and three digits, both families, and more rows than
  // one INSERT statement takes (a whole chunk and a tail).
  std::vector<UsageSample> samples;
  // Texts longer than 16 characters, two of them alike in their first 16.
  for (const char* text :
       {"0.0.0.1", "9.10.99.100", "255.255.255.255", "10.0.0.0", "192.168.1.20", "fd00:10::7", "2001:db8::1",
        "::ffff:1.2.3.4", "2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3:1::2", "2001:db8:85a3:1::1"}) {
    samples.push_back({IpAddress::parse(text).value(), samples.size() + 1, 7});
  }
  for (uint32_t i = 0; i < 150; ++i) samples.push_back({IpAddress::from_v4(0x0a0a0000u + i * 7919u), 1000 + i, i});
  TickRecord tick;
  tick.ts_ms = 1'800'000'000'000;
  tick.samples = samples;
  ASSERT_TRUE((*store)->write_tick(tick).ok());

  auto stored = (*store)->recent_usage(1000);
  ASSERT_TRUE(stored.ok()) << stored.message();
  ASSERT_EQ(stored->size(), samples.size());
  std::map<std::string, uint64_t> rx_by_ip;
  for (const auto& row : *stored) rx_by_ip[row.ip] = row.down_bytes;
  for (const auto& s : samples) {
    ASSERT_TRUE(rx_by_ip.count(s.ip.to_string())) << s.ip.to_string() << " not stored under its text";
    EXPECT_EQ(rx_by_ip[s.ip.to_string()], s.down_bytes) << s.ip.to_string();
  }
  store->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace bwalloc
