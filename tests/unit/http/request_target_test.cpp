// request_target.h: percent-decoding and the query, the form every route and
// the access policy match on.
#include "agent/http/request_target.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(HttpRequestTargetTest, DecodesThePathOnce) {
  EXPECT_EQ(parse_target("/api/devices").path, "/api/devices");
  EXPECT_EQ(parse_target("/%2e%2e/secret.txt").path, "/../secret.txt") << "the static route sees the real '..'";
  EXPECT_EQ(parse_target("/a%20b+c").path, "/a b c");
  EXPECT_EQ(parse_target("/100%").path, "/100%") << "a lone '%' stays";
  EXPECT_EQ(parse_target("/%zz").path, "/%zz");
  EXPECT_EQ(parse_target("/%252e").path, "/%2e") << "decoded once, not twice";
  EXPECT_EQ(parse_target("?ip=1").path, "");
}

TEST(HttpRequestTargetTest, SplitsTheQuery) {
  const RequestTarget t = parse_target("/api/history?ip=10.0.0.1&from=5&flag&to=&x%3Dy=a%26b&ip=10.0.0.2");
  EXPECT_EQ(t.path, "/api/history");
  EXPECT_EQ(t.query.at("ip"), "10.0.0.2") << "a repeated name keeps its last value";
  EXPECT_EQ(t.query.at("from"), "5");
  EXPECT_EQ(t.query.at("flag"), "");
  EXPECT_EQ(t.query.at("to"), "");
  EXPECT_EQ(t.query.at("x=y"), "a&b");
  EXPECT_TRUE(parse_target("/health").query.empty());
}

}  // namespace
}  // namespace bwalloc
