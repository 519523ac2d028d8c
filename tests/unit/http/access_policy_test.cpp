// access_policy.h as a table: each row one request against the real route
// table (method, path, Host, the other headers) and the decision it must get:
// a route, a static file, or a refusal with its status, the word its error
// names and the header it carries. Rows run in the policy's order of checks,
// so a row that breaks two rules shows which one wins.
#include "agent/http/access_policy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/utf8.h"
#include "agent/http/routes.h"

namespace bwalloc {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
using Outcome = AccessDecision::Outcome;

constexpr const char* kToken = "policy-token";

const Headers kAdmin = {{"authorization", std::string("Bearer ") + kToken}, {"x-requested-with", "bwalloc"}};

Headers admin_and(Headers more) {
  Headers all = kAdmin;
  all.insert(all.end(), more.begin(), more.end());
  return all;
}

struct Row {
  const char* what;
  const char* method;
  const char* path;
  Headers headers = {};
  std::optional<std::string> host = "127.0.0.1:8080";  // nullopt: no Host header
  Outcome outcome = Outcome::Route;
  int status = 0;                                   // when Refused
  const char* reason = "";                          // in the refusal's error message
  std::pair<const char*, const char*> header = {};  // a header the refusal carries
};

AccessContext context() { return {kToken, {"localhost", "127.0.0.1", "[::1]", "router.lan"}}; }

HttpRequest request_of(const Row& row) {
  HttpRequest r;
  r.method = row.method;
  r.target = row.path;
  if (row.host) r.headers["host"] = *row.host;
  for (const auto& [name, value] : row.headers) r.headers[name] = value;
  return r;
}

Row refused(Row row, int status, const char* reason, std::pair<const char*, const char*> header = {}) {
  row.outcome = Outcome::Refused;
  row.status = status;
  row.reason = reason;
  row.header = header;
  return row;
}

TEST(HttpAccessPolicyTest, Table) {
  const std::vector<Row> rows = {
      // Host: the allow-list, whatever the port (DNS rebinding).
      {"Host with port", "GET", "/api/devices"},
      {"Host without port", "GET", "/api/devices", {}, "127.0.0.1"},
      {"localhost", "GET", "/api/devices", {}, "localhost:8080"},
      {"IPv6 loopback", "GET", "/api/devices", {}, "[::1]:8080"},
      {"a configured name", "GET", "/api/devices", {}, "router.lan"},
      refused({"a foreign name", "GET", "/api/devices", {}, "evil.example"}, 421, "evil.example"),
      refused({"a name that starts like ours", "GET", "/api/devices", {}, "127.0.0.1.evil.example"}, 421, "Host"),
      refused({"no Host (HTTP/1.0)", "GET", "/api/devices", {}, std::nullopt}, 421, "Host"),
      refused({"foreign Host before the token", "POST", "/api/block", kAdmin, "evil.example:8080"}, 421, "Host"),
      refused({"foreign Host on a file", "GET", "/index.html", {}, "evil.example"}, 421, "Host"),
      // Paths: files only outside /api and only read.
      {"the dashboard", "GET", "/", {}, "127.0.0.1", Outcome::StaticFile},
      {"a file, HEAD", "HEAD", "/js/app.js", {}, "127.0.0.1", Outcome::StaticFile},
      refused({"a file, POST", "POST", "/index.html", kAdmin}, 404, "no route"),
      refused({"no API route", "GET", "/api/nothing"}, 404, "/api/nothing"),
      refused({"/api itself", "GET", "/api"}, 404, "no route"),
      // Methods: what the route table answers, HEAD wherever GET is.
      {"HEAD on a read", "HEAD", "/api/devices"},
      refused({"GET on a command", "GET", "/api/block"}, 405, "POST", {"Allow", "POST"}),
      refused({"HEAD on a command", "HEAD", "/api/block"}, 405, "POST", {"Allow", "POST"}),
      refused({"PUT where GET and POST are", "PUT", "/api/auto_toggle", kAdmin}, 405, "PUT",
              {"Allow", "GET, HEAD, POST"}),
      refused({"PATCH on a device", "PATCH", "/api/devices/10.0.0.1", kAdmin}, 405, "PATCH",
              {"Allow", "GET, HEAD, POST, DELETE"}),
      refused({"no CORS preflight", "OPTIONS", "/api/devices"}, 405, "OPTIONS", {"Allow", "GET, HEAD"}),
      // Reads are open, to any Origin (no CORS header lets a page read them).
      {"devices", "GET", "/api/devices/10.0.0.1"},
      {"config", "GET", "/api/config"},
      {"health", "GET", "/health"},
      {"Prometheus", "GET", "/metrics"},
      {"the stream", "GET", "/api/stream"},
      {"a read from another Origin", "GET", "/api/devices", {{"origin", "http://evil.example"}}},
      // Commands: no foreign Origin, the token, X-Requested-With, in that order.
      {"a command with everything", "POST", "/api/block", kAdmin},
      {"a device command", "DELETE", "/api/devices/10.0.0.1/priority", kAdmin},
      {"our own Origin", "POST", "/api/config", admin_and({{"origin", "http://127.0.0.1:8080"}})},
      refused({"no token", "POST", "/api/block"}, 401, "token", {"WWW-Authenticate", "Bearer"}),
      refused({"no token, DELETE", "DELETE", "/api/devices/10.0.0.1/priority"}, 401, "token",
              {"WWW-Authenticate", "Bearer"}),
      refused({"a wrong token",
               "POST",
               "/api/block",
               {{"authorization", "Bearer wrong-token!"}, {"x-requested-with", "bwalloc"}}},
              401, "token"),
      refused({"the token and more",
               "POST",
               "/api/block",
               {{"authorization", std::string("Bearer ") + kToken + "x"}, {"x-requested-with", "bwalloc"}}},
              401, "token"),
      refused({"not Bearer",
               "POST",
               "/api/block",
               {{"authorization", std::string("bearer ") + kToken}, {"x-requested-with", "bwalloc"}}},
              401, "token"),
      refused({"no X-Requested-With", "POST", "/api/block", {{"authorization", std::string("Bearer ") + kToken}}}, 403,
              "X-Requested-With"),
      refused({"another X-Requested-With",
               "POST",
               "/api/discover",
               {{"authorization", std::string("Bearer ") + kToken}, {"x-requested-with", "XMLHttpRequest"}}},
              403, "X-Requested-With"),
      refused({"a foreign Origin", "POST", "/api/block", admin_and({{"origin", "http://evil.example"}})}, 403,
              "cross-origin"),
      refused({"Origin null", "POST", "/api/block", admin_and({{"origin", "null"}})}, 403, "cross-origin"),
      refused({"a foreign Origin before the token", "POST", "/api/block", {{"origin", "http://evil.example"}}}, 403,
              "cross-origin"),
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.what);
    const HttpRequest request = request_of(row);
    const AccessDecision d = decide_access(request, row.path, route_methods(row.path), context());
    ASSERT_EQ(d.outcome, row.outcome) << row.method << " " << row.path << " -> " << d.refusal.status << " "
                                      << d.refusal.body;
    if (row.outcome != Outcome::Refused) continue;
    EXPECT_EQ(d.refusal.status, row.status) << d.refusal.body;
    EXPECT_NE(d.refusal.body.find(row.reason), std::string::npos) << d.refusal.body;
    if (row.header.first) {
      bool found = false;
      for (const auto& [name, value] : d.refusal.headers)
        found = found || (name == row.header.first && value == row.header.second);
      EXPECT_TRUE(found) << row.header.first << ": " << row.header.second;
    }
  }
}

// A route nobody gave an access rule would be refused to everyone: every
// one has a rule, and exactly the ones that change state need the token.
TEST(HttpAccessPolicyTest, EveryRouteHasARuleAndOnlyCommandsNeedTheToken) {
  for (const RouteEndpoint& e : route_endpoints()) {
    std::string path(e.path);
    if (e.prefix) path += "10.0.0.1";
    const auto access = access_for(e.method, path);
    ASSERT_TRUE(access.has_value()) << e.method << " " << path;
    EXPECT_EQ(*access, e.method == "GET" ? Access::Open : Access::Admin) << e.method << " " << path;
  }
  EXPECT_FALSE(access_for("PUT", "/api/block").has_value());
  EXPECT_EQ(access_for("HEAD", "/health"), Access::Open);
}

TEST(HttpAccessPolicyTest, HeadIsGetWithoutTheBody) {
  EXPECT_EQ(routed_method("HEAD"), "GET");
  EXPECT_EQ(routed_method("POST"), "POST");
  EXPECT_FALSE(response_has_body("HEAD"));
  EXPECT_TRUE(response_has_body("GET"));
}

TEST(HttpAccessPolicyTest, OverTheLimitsTheRefusalNamesTheLimit) {
  EXPECT_EQ(kHttpHeaderLimit, 8u * 1024);
  EXPECT_EQ(kHttpBodyLimit, 64u * 1024);
  EXPECT_EQ(headers_too_large().status, 431);
  EXPECT_NE(headers_too_large().body.find("limit 8 KiB"), std::string::npos);
  EXPECT_EQ(body_too_large().status, 413);
  EXPECT_NE(body_too_large().body.find("limit 64 KiB"), std::string::npos);
}

TEST(HttpAccessPolicyTest, EveryResponseCarriesTheSecurityHeaders) {
  std::map<std::string, std::string> set;
  for (const auto& [name, value] : response_security_headers()) set[std::string(name)] = std::string(value);
  EXPECT_NE(set["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_NE(set["Content-Security-Policy"].find("frame-ancestors 'none'"), std::string::npos);
  EXPECT_EQ(set["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(set["X-Frame-Options"], "DENY");
  EXPECT_EQ(set["Referrer-Policy"], "no-referrer");
  EXPECT_EQ(set.count("Access-Control-Allow-Origin"), 0u) << "no CORS";
  EXPECT_EQ(kDefaultCacheControl, "no-store");
}

// The refusal quotes the Host it refused; bytes that are not UTF-8 must not
// make its body undecodable.
TEST(HttpAccessPolicyTest, ARefusalQuotingBadBytesIsStillJson) {
  Row row{"Latin-1 Host", "GET", "/api/devices", {}, std::string("caf\xE9.lan")};
  const AccessDecision d = decide_access(request_of(row), row.path, route_methods(row.path), context());
  ASSERT_EQ(d.outcome, Outcome::Refused);
  EXPECT_EQ(d.refusal.status, 421);
  EXPECT_TRUE(is_valid_utf8(d.refusal.body));
  boost::system::error_code ec;
  (void)boost::json::parse(d.refusal.body, ec);
  EXPECT_FALSE(ec) << d.refusal.body;
}

}  // namespace
}  // namespace bwalloc
