// Issue #12 item 3 over real sockets: one client address holding (and
// re-opening) more connections than the server's whole cap must not lock
// out every other client. 127.0.0.1 is the greedy client; 127.0.0.2 is
// another program on the router (all of 127.0.0.0/8 is loopback).
#include "tests/unit/http/http_test_server.h"

namespace bwalloc::test {
namespace {

class ClientLimitsTest : public HttpServerTest {
 protected:
  void configure(HttpServerConfig& c) override {
    c.max_connections = 16;
    c.max_connections_per_client = 4;
  }

  // Connections that say nothing: each holds a slot until the (long) read
  // timeout, as a slowloris client's would.
  std::vector<RawClient> hold(size_t count, const std::string& source) {
    std::vector<RawClient> held;
    for (size_t i = 0; i < count; ++i) {
      held.emplace_back(port(), source);
      EXPECT_TRUE(held.back().connected());
    }
    return held;
  }

  // Sends one request on a fresh connection until it is served: the server
  // frees a slot when it sees its connection close, which the client cannot
  // observe directly, so the test waits for the slot itself to be given.
  RawReply served_eventually(const std::string& source) {
    auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
    RawReply r;
    do {
      r = exchange(raw_request("GET", "/api/metrics"), source);
    } while (r.status == 503 && std::chrono::steady_clock::now() < deadline);
    return r;
  }
};

TEST_F(ClientLimitsTest, OneGreedyAddressDoesNotLockOutAnother) {
  // More than the whole server's cap, from one address.
  auto held = hold(20, "127.0.0.1");
  // The server accepts in arrival order, so by the time it reaches this
  // connection it has seen all twenty.
  auto other = exchange(raw_request("GET", "/api/metrics"), "127.0.0.2");
  EXPECT_EQ(other.status, 200) << "another address is served: " << other.body().substr(0, 200);

  auto greedy = exchange(raw_request("GET", "/api/metrics"), "127.0.0.1");
  EXPECT_EQ(greedy.status, 503) << "the greedy address is at its own cap";
  EXPECT_FALSE(greedy.json()["ok"].as_bool());
  EXPECT_NE(std::string(greedy.json()["error"].as_string()).find("127.0.0.1"), std::string::npos)
      << "the error names the address that is at its cap: " << greedy.body();
}

TEST_F(ClientLimitsTest, AClientsSlotsComeBackWhenItsConnectionsClose) {
  auto held = hold(4, "127.0.0.1");
  EXPECT_EQ(exchange(raw_request("GET", "/api/metrics"), "127.0.0.1").status, 503);
  held.pop_back();  // one connection closes
  EXPECT_EQ(served_eventually("127.0.0.1").status, 200);
}

TEST_F(ClientLimitsTest, ManyAddressesStillMeetTheGlobalCap) {
  std::vector<RawClient> held;
  for (int a = 2; a < 6; ++a) {  // 4 addresses x 4 = the global 16
    for (auto& c : hold(4, "127.0.0." + std::to_string(a))) held.push_back(std::move(c));
  }
  auto over = exchange(raw_request("GET", "/api/metrics"), "127.0.0.9");
  EXPECT_EQ(over.status, 503) << "the global cap still holds";
}

}  // namespace
}  // namespace bwalloc::test
