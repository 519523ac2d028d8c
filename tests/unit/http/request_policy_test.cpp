// request_policy.h as a table: each row a request head (target, version,
// header lines in order, repeats allowed) and whether it passes; a refused
// row also names a word its error message must contain, so a refusal is
// refused for the right reason.
#include "agent/http/request_policy.h"

#include <gtest/gtest.h>

#include <vector>

namespace bwalloc {
namespace {

namespace http = boost::beast::http;

struct Row {
  const char* what;
  std::vector<std::pair<std::string, std::string>> fields;
  bool ok;
  const char* reason = "";  // in the error message when !ok
  std::string target = "/api/devices";
  unsigned version = 11;
};

http::request_header<> head_of(const Row& row) {
  http::request_header<> h;
  h.method(http::verb::get);
  h.target(row.target);
  h.version(row.version);
  for (const auto& [name, value] : row.fields) h.insert(name, value);
  return h;
}

TEST(RequestPolicyTest, Table) {
  const std::vector<Row> rows = {
      {"plain Host", {{"Host", "127.0.0.1"}}, true},
      {"Host with port", {{"Host", "127.0.0.1:8080"}}, true},
      {"name Host", {{"Host", "router.lan"}}, true},
      {"name with underscore", {{"Host", "my_router.lan:80"}}, true},
      {"IPv6 Host", {{"Host", "[::1]:8080"}}, true},
      {"IPv6 Host, no port", {{"Host", "[fd00:10::1]"}}, true},
      {"userinfo", {{"Host", "127.0.0.1:80@evil.example"}}, false, "Host"},
      {"userinfo first", {{"Host", "user@127.0.0.1"}}, false, "Host"},
      {"path", {{"Host", "127.0.0.1/x"}}, false, "Host"},
      {"empty port", {{"Host", "127.0.0.1:"}}, false, "Host"},
      {"port too big", {{"Host", "127.0.0.1:65536"}}, false, "Host"},
      {"port too long", {{"Host", "127.0.0.1:000080"}}, false, "Host"},
      {"two ports", {{"Host", "127.0.0.1:80:81"}}, false, "Host"},
      {"space", {{"Host", "127.0.0.1 evil"}}, false, "Host"},
      {"percent", {{"Host", "127.0.0.1%2f"}}, false, "Host"},
      {"empty Host", {{"Host", ""}}, false, "Host"},
      {"unclosed IPv6", {{"Host", "[::1"}}, false, "Host"},
      {"IPv6 junk", {{"Host", "[::1@evil]"}}, false, "Host"},
      {"text after IPv6", {{"Host", "[::1]evil"}}, false, "Host"},
      {"no Host, HTTP/1.1", {}, false, "Host"},
      {"no Host, HTTP/1.0", {}, true, "", "/api/devices", 10},
      {"two Host", {{"Host", "127.0.0.1"}, {"Host", "127.0.0.1"}}, false, "more than once"},
      {"two Host, mixed case", {{"Host", "127.0.0.1"}, {"hOST", "evil.example"}}, false, "more than once"},
      {"Origin", {{"Host", "127.0.0.1"}, {"Origin", "http://127.0.0.1:8080"}}, true},
      {"Origin null", {{"Host", "127.0.0.1"}, {"Origin", "null"}}, true},
      {"Origin IPv6", {{"Host", "127.0.0.1"}, {"Origin", "https://[::1]"}}, true},
      {"two Origin", {{"Host", "127.0.0.1"}, {"Origin", "http://a"}, {"Origin", "http://b"}}, false, "more than once"},
      {"Origin with userinfo", {{"Host", "127.0.0.1"}, {"Origin", "http://127.0.0.1@evil.example"}}, false, "Origin"},
      {"Origin with path", {{"Host", "127.0.0.1"}, {"Origin", "http://127.0.0.1/"}}, false, "Origin"},
      {"Origin without scheme", {{"Host", "127.0.0.1"}, {"Origin", "127.0.0.1"}}, false, "Origin"},
      {"Origin bad scheme", {{"Host", "127.0.0.1"}, {"Origin", "1http://127.0.0.1"}}, false, "Origin"},
      {"Content-Length", {{"Host", "127.0.0.1"}, {"Content-Length", "12"}}, true},
      {"two Content-Length",
       {{"Host", "127.0.0.1"}, {"Content-Length", "12"}, {"Content-Length", "12"}},
       false,
       "more than once"},
      {"Content-Length list", {{"Host", "127.0.0.1"}, {"Content-Length", "12, 12"}}, false, "Content-Length"},
      {"Content-Length sign", {{"Host", "127.0.0.1"}, {"Content-Length", "+12"}}, false, "Content-Length"},
      {"chunked", {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "chunked"}}, true},
      {"Chunked, any case", {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "Chunked"}}, true},
      {"xchunked",
       {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "xchunked"}, {"Content-Length", "5"}},
       false,
       "Transfer-Encoding"},
      {"chunked, identity",
       {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "chunked, identity"}},
       false,
       "Transfer-Encoding"},
      {"gzip, chunked", {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "gzip, chunked"}}, false, "Transfer-Encoding"},
      {"chunked with Content-Length",
       {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "chunked"}, {"Content-Length", "5"}},
       false,
       "Content-Length"},
      {"two Transfer-Encoding",
       {{"Host", "127.0.0.1"}, {"Transfer-Encoding", "chunked"}, {"Transfer-Encoding", "chunked"}},
       false,
       "more than once"},
      {"two Authorization",
       {{"Host", "127.0.0.1"}, {"Authorization", "Bearer a"}, {"Authorization", "Bearer b"}},
       false,
       "more than once"},
      {"two X-Requested-With",
       {{"Host", "127.0.0.1"}, {"X-Requested-With", "bwalloc"}, {"X-Requested-With", "x"}},
       false,
       "more than once"},
      {"two Accept are fine", {{"Host", "127.0.0.1"}, {"Accept", "a"}, {"Accept", "b"}}, true},
      {"absolute-form", {{"Host", "127.0.0.1"}}, false, "target", "http://evil.example/api/devices"},
      {"asterisk-form", {{"Host", "127.0.0.1"}}, false, "target", "*"},
  };
  for (const Row& row : rows) {
    auto result = check_request(head_of(row));
    EXPECT_EQ(result.ok(), row.ok) << row.what << (result ? "" : ": " + result.message());
    if (!result && !row.ok) {
      EXPECT_NE(result.message().find(row.reason), std::string::npos) << row.what << ": " << result.message();
    }
  }
}

TEST(RequestPolicyTest, ErrorMessagesQuoteOnlyPrintableText) {
  Row row{"control bytes", {{"Host", "127.0.0.1\x01\x7f"}}, false};
  auto result = check_request(head_of(row));
  ASSERT_FALSE(result);
  for (char c : result.message()) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
}

}  // namespace
}  // namespace bwalloc
