// Every JSON body is valid UTF-8: a block reason cut to its 500-byte cap
// loses whole characters, never half of one, and text an older version (or
// a lease file, or reverse DNS) left invalid in the database is repaired on
// the way out instead of breaking the body for every client.
#include "agent/http/json_views.h"
#include "tests/unit/http/route_fixture.h"

namespace bwalloc {
namespace {

// The decoder the clients use: Boost.JSON refuses invalid UTF-8 in strings.
bool valid_json(const std::string& body) {
  boost::system::error_code ec;
  (void)boost::json::parse(body, ec);
  return !ec;
}

class Utf8ApiTest : public test::RouteFixture {};

TEST_F(Utf8ApiTest, AReasonCutAtItsCapKeepsWholeCharacters) {
  start();
  // Two-, three- and four-byte characters straddling byte 500.
  for (const std::string& tail :
       {std::string("\xC3\xA9"), std::string("\xE2\x82\xAC"), std::string("\xF0\x9F\x98\x80")}) {
    for (size_t ascii = 497; ascii <= 499; ++ascii) {
      const std::string reason = std::string(ascii, 'x') + tail + tail;
      auto block = post("/api/block", "{\"ip\":\"10.77.0.11\",\"reason\":\"" + reason + "\"}");
      ASSERT_EQ(block.status, 200) << block.body;
      for (const char* route : {"/api/blocked", "/api/events"}) {
        auto r = get(route);
        ASSERT_EQ(r.status, 200);
        EXPECT_TRUE(valid_json(r.body)) << route << " after a reason of " << ascii << " + " << tail.size()
                                        << "-byte characters serves invalid UTF-8";
      }
      const boost::json::object blocked = get("/api/blocked").json();
      ASSERT_FALSE(blocked.at("blocked").as_array().empty());
      const std::string kept(blocked.at("blocked").as_array()[0].as_object().at("reason").as_string());
      EXPECT_LE(kept.size(), 500u);
      EXPECT_EQ(kept.substr(0, ascii), std::string(ascii, 'x'));
      EXPECT_EQ((kept.size() - ascii) % tail.size(), 0u) << "only whole characters are kept";
      ASSERT_EQ(post("/api/unblock", R"({"ip":"10.77.0.11"})").status, 200);
    }
  }
}

TEST_F(Utf8ApiTest, InvalidTextInTheDatabaseIsRepairedOnTheWayOut) {
  {
    // What an older version saved: reasons cut mid-character, a hostname
    // from a lease file in Latin-1.
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok());
    TickRecord record;
    record.ts_ms = 1'800'000'000'000;
    const IpAddress ip = *IpAddress::parse("10.77.0.12");
    record.blocks.push_back(BlockRecord{ip, std::string(499, 'y') + "\xC3", record.ts_ms});
    record.events.push_back(
        Event{std::chrono::system_clock::time_point(std::chrono::milliseconds(record.ts_ms)), EventLevel::Admin,
              "blocked 10.77.0.12 by admin: " + std::string(470, 'y') + "\xE2\x82", "admin\xFF", ip});
    DeviceRecord device;
    device.ip = ip;
    device.priority = Priority::Blocked;
    device.hostname = "caf\xE9-pc";
    device.vendor = "\xC0\xAF";  // an overlong '/'
    record.devices.push_back(device);
    ASSERT_TRUE((*store)->write_tick(record).ok());
  }
  start();
  for (const char* route : {"/api/blocked", "/api/events", "/api/devices", "/api/devices/10.77.0.12"}) {
    auto r = get(route);
    ASSERT_EQ(r.status, 200) << route;
    EXPECT_TRUE(valid_json(r.body)) << route << ": " << r.body.substr(0, 200);
  }
  const boost::json::object devices = get("/api/devices/10.77.0.12").json();
  EXPECT_EQ(devices.at("device").as_object().at("hostname").as_string(), "caf\xEF\xBF\xBD-pc")
      << "the bad byte becomes U+FFFD";
  EXPECT_EQ(devices.at("device").as_object().at("vendor").as_string(), "\xEF\xBF\xBD\xEF\xBF\xBD");
  // The live stream carries the same device text.
  EXPECT_TRUE(valid_json(snapshot_json(*agent_->snapshot())));
}

}  // namespace
}  // namespace bwalloc
