// Issue #12 item 4 over real sockets: held /api/stream connections must not
// lock a newly opened dashboard out. At the stream cap the newcomer gets its
// stream and an old one ends (the greedy address's first); a stream whose
// peer stops reading is dropped by its write timeout; an idle stream keeps
// talking with a heartbeat.
#include "tests/unit/http/http_test_server.h"

namespace bwalloc::test {
namespace {

constexpr const char* kStreamHead = "retry: 2000";

class StreamLimitsTest : public HttpServerTest {
 protected:
  void configure(HttpServerConfig& c) override {
    c.max_stream_clients = 4;
    c.max_streams_per_client = 2;
    c.stream_poll = std::chrono::milliseconds(10);
  }

  // A stream from `source`, returned once the server has admitted it (its
  // response head has arrived), so streams are admitted in the test's order.
  RawClient open_stream(const std::string& source) {
    RawClient c(port(), source);
    EXPECT_TRUE(c.connected()) << source;
    EXPECT_TRUE(c.send(raw_request("GET", "/api/stream")));
    std::string head = c.read_until(kStreamHead);
    EXPECT_NE(head.find("200 OK"), std::string::npos) << source << " gets its stream: " << head.substr(0, 300);
    EXPECT_NE(head.find(kStreamHead), std::string::npos) << source;
    return c;
  }

  // A stream is alive when the latest tick reaches it as a snapshot event.
  bool receives_latest_snapshot(RawClient& c) {
    const std::string marker = "{\"tick\":" + std::to_string(agent_->snapshot()->tick) + ",";
    return c.read_until(marker).find(marker) != std::string::npos;
  }
};

TEST_F(StreamLimitsTest, NewDashboardAtTheCapEvictsTheOldestStream) {
  std::vector<RawClient> held;
  for (int a = 2; a <= 5; ++a) held.push_back(open_stream("127.0.0." + std::to_string(a)));  // the cap of 4
  RawClient dashboard = open_stream("127.0.0.1");
  EXPECT_TRUE(held[0].wait_closed()) << "the oldest stream gave way";
  agent_->tick();
  EXPECT_TRUE(receives_latest_snapshot(dashboard));
  for (size_t i = 1; i < held.size(); ++i)
    EXPECT_TRUE(receives_latest_snapshot(held[i])) << "stream " << i << " still live";
}

TEST_F(StreamLimitsTest, AClientAtItsOwnCapReplacesItsOldestStream) {
  RawClient first = open_stream("127.0.0.1");
  RawClient other = open_stream("127.0.0.2");
  RawClient second = open_stream("127.0.0.1");
  RawClient third = open_stream("127.0.0.1");  // over the 2 per address
  EXPECT_TRUE(first.wait_closed()) << "the address's own oldest stream ended";
  agent_->tick();
  EXPECT_TRUE(receives_latest_snapshot(other)) << "another address's stream is untouched";
  EXPECT_TRUE(receives_latest_snapshot(second));
  EXPECT_TRUE(receives_latest_snapshot(third));
}

TEST_F(StreamLimitsTest, TheAddressHoldingTheMostGivesWayFirst) {
  RawClient lone = open_stream("127.0.0.2");  // the oldest stream of all
  RawClient greedy_1 = open_stream("127.0.0.1");
  RawClient greedy_2 = open_stream("127.0.0.1");
  RawClient third = open_stream("127.0.0.3");
  RawClient newcomer = open_stream("127.0.0.4");
  EXPECT_TRUE(greedy_1.wait_closed()) << "the oldest stream of the address with two";
  agent_->tick();
  EXPECT_TRUE(receives_latest_snapshot(lone)) << "a dashboard holding one stream keeps it";
  EXPECT_TRUE(receives_latest_snapshot(greedy_2));
  EXPECT_TRUE(receives_latest_snapshot(newcomer));
}

class StreamHeartbeatTest : public HttpServerTest {
 protected:
  void configure(HttpServerConfig& c) override {
    c.stream_poll = std::chrono::milliseconds(10);
    c.stream_heartbeat = std::chrono::milliseconds(20);
  }
};

TEST_F(StreamHeartbeatTest, AnIdleStreamGetsHeartbeatComments) {
  RawClient c(port(), "127.0.0.1");
  ASSERT_TRUE(c.send(raw_request("GET", "/api/stream")));
  c.read_until("event: snapshot");  // the current snapshot at once
  c.received().clear();
  // No tick happens, so nothing but the heartbeat can arrive.
  EXPECT_NE(c.read_until(": heartbeat\n\n").find(": heartbeat\n\n"), std::string::npos);
}

class StreamWriteTimeoutTest : public HttpServerTest {
 protected:
  void configure(HttpServerConfig& c) override {
    c.stream_poll = std::chrono::milliseconds(10);
    c.stream_heartbeat = std::chrono::milliseconds(10);
    c.stream_write_timeout = std::chrono::milliseconds(200);
    // One connection in all: the next request is served exactly when the
    // server has let the dead stream go.
    c.max_connections = 1;
  }
};

TEST_F(StreamWriteTimeoutTest, AStreamWhosePeerStopsReadingIsDropped) {
  RawClient reader(port(), "127.0.0.3", 4096);  // a small window, never read again
  ASSERT_TRUE(reader.send(raw_request("GET", "/api/stream")));
  ASSERT_TRUE(reader.wait_readable());  // admitted: its head is on the way
  // Snapshots pile up in the socket buffers until a write cannot finish.
  auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    agent_->tick();
    status = exchange(raw_request("GET", "/api/metrics"), "127.0.0.3").status;
    if (status != 503) break;
  }
  EXPECT_EQ(status, 200) << "the stream that stopped reading was dropped and its slot given back";
}

}  // namespace
}  // namespace bwalloc::test
