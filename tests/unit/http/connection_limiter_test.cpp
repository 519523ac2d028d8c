// ConnectionLimiter on its own: the two caps, slots coming back when they
// are destroyed, and one client however its address is spelled.
#include "agent/http/connection_limiter.h"

#include <gtest/gtest.h>

#include <vector>

namespace bwalloc {
namespace {

using boost::asio::ip::make_address;

TEST(ConnectionLimiterTest, PerClientCapBelowTheTotal) {
  ConnectionLimiter limiter(5, 2);
  std::vector<ConnectionLimiter::Slot> held;
  for (int i = 0; i < 2; ++i) {
    auto slot = limiter.acquire(make_address("127.0.0.1"));
    ASSERT_TRUE(slot);
    held.push_back(std::move(*slot));
  }
  auto refused = limiter.acquire(make_address("127.0.0.1"));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.message().find("127.0.0.1"), std::string::npos) << refused.message();
  EXPECT_NE(refused.message().find("limit 2"), std::string::npos) << refused.message();
  for (const char* other : {"127.0.0.2", "127.0.0.2", "10.0.0.5"}) {
    auto slot = limiter.acquire(make_address(other));
    ASSERT_TRUE(slot) << other;
    held.push_back(std::move(*slot));
  }
  EXPECT_EQ(limiter.open(), 5u);
  auto full = limiter.acquire(make_address("10.0.0.6"));
  ASSERT_FALSE(full);
  EXPECT_NE(full.message().find("limit 5"), std::string::npos) << full.message();
  held.erase(held.begin());  // one of 127.0.0.1's closes
  EXPECT_EQ(limiter.open_from(make_address("127.0.0.1")), 1u);
  EXPECT_TRUE(limiter.acquire(make_address("127.0.0.1")));
}

TEST(ConnectionLimiterTest, MappedIpv4IsTheSameClient) {
  ConnectionLimiter limiter(10, 1);
  auto v4 = limiter.acquire(make_address("192.168.1.7"));
  ASSERT_TRUE(v4);
  EXPECT_FALSE(limiter.acquire(make_address("::ffff:192.168.1.7"))) << "a dual-stack listener's view of the same peer";
  EXPECT_TRUE(limiter.acquire(make_address("fd00::7")));
}

TEST(ConnectionLimiterTest, SlotsOutliveNothingAndFreeOnce) {
  ConnectionLimiter limiter(1, 1);
  {
    auto slot = limiter.acquire(make_address("::1"));
    ASSERT_TRUE(slot);
    ConnectionLimiter::Slot moved = std::move(*slot);
    EXPECT_EQ(limiter.open(), 1u);
  }
  EXPECT_EQ(limiter.open(), 0u) << "a moved-from slot frees nothing twice";
  EXPECT_EQ(limiter.open_from(make_address("::1")), 0u);
}

}  // namespace
}  // namespace bwalloc
