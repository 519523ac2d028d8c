// Issue #12 item 9 over real sockets: requests with ambiguous framing or
// identity (a Host with userinfo, repeated Host/Origin/Content-Length,
// transfer codings other than plain chunked) get 400 with a JSON error and
// a closed connection; HEAD is answered like GET, without a body.
#include "tests/unit/http/http_test_server.h"

namespace bwalloc::test {
namespace {

class StrictParsingTest : public HttpServerTest {};

TEST_F(StrictParsingTest, AmbiguousRequestsGet400WithJsonError) {
  struct Case {
    const char* what;
    std::string bytes;
  };
  const std::string body = R"({"auto":true})";
  const std::string len = std::to_string(body.size());
  const std::vector<Case> cases = {
      {"userinfo in Host", "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1:80@evil.example\r\n\r\n"},
      {"path in Host", "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1/evil\r\n\r\n"},
      {"port not a number", "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1:8o\r\n\r\n"},
      {"two Host headers", "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n"},
      {"two Host headers, other case", "GET /api/devices HTTP/1.1\r\nhost: evil.example\r\nHost: 127.0.0.1\r\n\r\n"},
      {"no Host in HTTP/1.1", "GET /api/devices HTTP/1.1\r\n\r\n"},
      {"two Origin headers",
       "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1\r\nOrigin: "
       "http://evil.example\r\n\r\n"},
      {"userinfo in Origin",
       "GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://127.0.0.1@evil.example\r\n\r\n"},
      {"two Content-Length headers", "POST /api/auto_toggle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + len +
                                         "\r\nContent-Length: " + len + "\r\n\r\n" + body},
      {"Content-Length list",
       "POST /api/auto_toggle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " + len + ", " + len + "\r\n\r\n" + body},
      {"xchunked with Content-Length",
       "POST /api/auto_toggle HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: xchunked\r\n"
       "Content-Length: " +
           len + "\r\n\r\n" + body},
      {"chunked, identity",
       "POST /api/auto_toggle HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n"
       "0\r\n\r\n"},
      {"absolute-form target", "GET http://evil.example/api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
  };
  for (const Case& c : cases) {
    RawClient conn = client();
    ASSERT_TRUE(conn.send(c.bytes)) << c.what;
    RawReply r = conn.read_response();
    EXPECT_EQ(r.status, 400) << c.what << " -> " << r.body().substr(0, 120);
    EXPECT_TRUE(r.json().contains("ok") && !r.json()["ok"].as_bool()) << c.what << ": " << r.body().substr(0, 120);
    EXPECT_TRUE(r.json()["error"].is_string()) << c.what;
    EXPECT_FALSE(r.message.keep_alive()) << c.what << ": the connection closes after a framing error";
    if (r.status == 400) {
      EXPECT_TRUE(conn.wait_closed()) << c.what;
    }
  }
}

TEST_F(StrictParsingTest, WellFormedVariantsStillWork) {
  for (const char* host : {"127.0.0.1", "127.0.0.1:8080", "localhost", "[::1]:80", "[::1]"}) {
    auto r = exchange("GET /api/metrics HTTP/1.1\r\nHost: " + std::string(host) + "\r\n\r\n");
    EXPECT_EQ(r.status, 200) << host << ": " << r.body();
  }
  auto same_origin = exchange(raw_request("GET", "/api/devices", "Origin: http://127.0.0.1:8080\r\n"));
  EXPECT_EQ(same_origin.status, 200) << same_origin.body();
  // A chunked POST with the token is served as before.
  const std::string token = server_->token();
  auto chunked = exchange(
      "POST /api/auto_toggle HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
      "Authorization: Bearer " +
      token +
      "\r\nX-Requested-With: bwalloc\r\n"
      "Content-Type: application/json\r\n\r\nE\r\n{\"auto\":false}\r\n0\r\n\r\n");
  EXPECT_EQ(chunked.status, 200) << chunked.body();
}

TEST_F(StrictParsingTest, HeadIsAnsweredLikeGetWithoutBody) {
  auto get = exchange(raw_request("GET", "/api/metrics"));
  ASSERT_EQ(get.status, 200);
  auto head = exchange(raw_request("HEAD", "/api/metrics"), "127.0.0.1", true);
  EXPECT_EQ(head.status, 200) << "HEAD on a GET route";
  EXPECT_TRUE(head.body().empty());
  EXPECT_EQ(head.message[http::field::content_type], get.message[http::field::content_type]);
  EXPECT_FALSE(head.message[http::field::content_length].empty());

  auto static_head = exchange(raw_request("HEAD", "/"), "127.0.0.1", true);
  EXPECT_EQ(static_head.status, 200);
  EXPECT_EQ(static_head.message[http::field::content_length],
            std::to_string(exchange(raw_request("GET", "/")).body().size()));

  // A stream is never started for HEAD: headers, then the connection ends.
  RawClient stream = client();
  ASSERT_TRUE(stream.send(raw_request("HEAD", "/api/stream")));
  auto stream_head = stream.read_response(true);
  EXPECT_EQ(stream_head.status, 200);
  EXPECT_NE(stream_head.message[http::field::content_type].find("text/event-stream"), std::string::npos);
  EXPECT_TRUE(stream.wait_closed());

  auto head_post_only = exchange(raw_request("HEAD", "/api/block"), "127.0.0.1", true);
  EXPECT_EQ(head_post_only.status, 405);
  EXPECT_EQ(head_post_only.message["Allow"], "POST");
  auto allow = exchange(raw_request("DELETE", "/api/metrics"));
  EXPECT_EQ(allow.status, 405);
  EXPECT_EQ(allow.message["Allow"], "GET, HEAD");
}

}  // namespace
}  // namespace bwalloc::test
