// The original system's API, route by route and field by field (the table in
// SEED_BEHAVIOUR.md): every field it answered is there with the original's
// type (priority a number 0-3, ts and last_seen seconds since the epoch,
// throughput rounded to 2 decimals, congestion to 1), so a client written for
// the original keeps working; the richer fields sit beside them under their
// own names.
#include <cmath>

#include "agent/discovery/discovery.h"
#include "tests/unit/http/route_fixture.h"

namespace bwalloc {
namespace {

namespace json = boost::json;

enum class Type { String, Bool, Integer, Number, NumberOrNull, Array, Object };

const char* type_name(Type t) {
  switch (t) {
    case Type::String:
      return "a string";
    case Type::Bool:
      return "a boolean";
    case Type::Integer:
      return "an integer";
    case Type::Number:
      return "a number";
    case Type::NumberOrNull:
      return "a number or null";
    case Type::Array:
      return "an array";
    case Type::Object:
      return "an object";
  }
  return "?";
}

bool has_type(const json::value& v, Type t) {
  switch (t) {
    case Type::String:
      return v.is_string();
    case Type::Bool:
      return v.is_bool();
    case Type::Integer:
      return v.is_int64() || v.is_uint64();
    case Type::Number:
      return v.is_number();
    case Type::NumberOrNull:
      return v.is_number() || v.is_null();
    case Type::Array:
      return v.is_array();
    case Type::Object:
      return v.is_object();
  }
  return false;
}

using Fields = std::vector<std::pair<const char*, Type>>;

// Every field present with its type; `where` names the route in failures.
void expect_fields(const json::object& o, const Fields& fields, const std::string& where) {
  for (const auto& [name, type] : fields) {
    auto it = o.find(name);
    if (it == o.end()) {
      ADD_FAILURE() << where << ": no field '" << name << "' in " << json::serialize(o);
      continue;
    }
    EXPECT_TRUE(has_type(it->value(), type))
        << where << ": '" << name << "' must be " << type_name(type) << ", is " << json::serialize(it->value());
  }
}

// A list field of `body`, not empty, each item checked.
void expect_list(const json::object& body, const char* name, const Fields& item, const std::string& where) {
  auto it = body.find(name);
  ASSERT_NE(it, body.end()) << where << ": no '" << name << "' in " << json::serialize(body);
  ASSERT_TRUE(it->value().is_array()) << where;
  ASSERT_FALSE(it->value().as_array().empty()) << where << ": nothing to check";
  for (const auto& v : it->value().as_array()) {
    ASSERT_TRUE(v.is_object()) << where;
    expect_fields(v.as_object(), item, where + " " + name + "[]");
  }
}

double number(const json::value& v) {
  return v.is_double() ? v.as_double() : static_cast<double>(v.to_number<int64_t>());
}

const Fields kDevice = {{"ip", Type::String},
                        {"mac", Type::String},
                        {"hostname", Type::String},
                        {"priority", Type::Integer},
                        {"last_seen", Type::Number},
                        {"priority_name", Type::String},
                        {"last_seen_iso", Type::String},
                        {"first_seen", Type::Number},
                        {"first_seen_iso", Type::String}};
const Fields kTimed = {{"ts", Type::Number}, {"ts_iso", Type::String}, {"ts_ms", Type::Integer}};

class OriginalApiContractTest : public test::RouteFixture {
 protected:
  void SetUp() override {
    RouteFixture::SetUp();
    // The loopback interface's neighbour table: empty, but a real scan.
    auto lo = Discovery::open("lo", "/nonexistent/oui.txt", "", false);
    ASSERT_TRUE(lo.ok()) << lo.message();
    scanner_ = std::move(*lo);
    discovery_ = scanner_.get();
    start(8);
  }

  // ts (seconds) agrees with ts_ms and is seconds, not milliseconds.
  void expect_seconds(const json::object& o, const char* seconds, const char* ms, const std::string& where) {
    ASSERT_TRUE(o.contains(seconds) && o.contains(ms)) << where;
    const double s = number(o.at(seconds));
    const double m = number(o.at(ms));
    EXPECT_EQ(std::floor(m / 1000), s) << where << ": " << seconds << " must be whole seconds since the epoch";
    EXPECT_GT(s, 1.5e9) << where;
    EXPECT_LT(s, 1e10) << where << ": seconds, not milliseconds";
  }

  std::unique_ptr<Discovery> scanner_;
};

TEST_F(OriginalApiContractTest, Devices) {
  ASSERT_EQ(post("/api/set_priority", R"({"ip":"10.77.0.12","priority":"Low"})").status, 200);
  ASSERT_EQ(post("/api/block", R"({"ip":"10.77.0.13"})").status, 200);
  auto r = get("/api/devices");
  ASSERT_EQ(r.status, 200);
  const json::object body = r.json();
  expect_list(body, "devices", kDevice, "GET /api/devices");
  for (const auto& v : body.at("devices").as_array()) {
    const auto& d = v.as_object();
    const int64_t p = d.at("priority").to_number<int64_t>();
    EXPECT_GE(p, 0);
    EXPECT_LE(p, 3);
    const std::string ip(d.at("ip").as_string());
    const std::string name(d.at("priority_name").as_string());
    if (ip == "10.77.0.12") EXPECT_EQ(p, 3) << "Low is 3";
    if (ip == "10.77.0.13") EXPECT_EQ(p, 0) << "Blocked is 0: a client for the original shows Unblock";
    EXPECT_EQ(name, std::vector<std::string>({"Blocked", "High", "Normal", "Low"})[static_cast<size_t>(p)]);
    expect_seconds(d, "last_seen", "last_seen_ms", "GET /api/devices " + ip);
    if (d.contains("pending") && d.at("pending").is_object()) {
      expect_fields(d.at("pending").as_object(), {{"priority", Type::Integer}, {"priority_name", Type::String}},
                    "GET /api/devices pending");
    }
  }
}

TEST_F(OriginalApiContractTest, Discover) {
  auto r = post("/api/discover", "");
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object body = r.json();
  expect_fields(body, {{"ok", Type::Bool}, {"devices", Type::Array}}, "POST /api/discover");
  EXPECT_TRUE(body.at("ok").as_bool());
  expect_list(body, "devices", kDevice, "POST /api/discover");
}

TEST_F(OriginalApiContractTest, Usage) {
  auto r = get("/api/usage");
  ASSERT_EQ(r.status, 200);
  const json::object body = r.json();
  Fields item = {{"ip", Type::String}, {"bytes_rx", Type::Integer}, {"bytes_tx", Type::Integer}};
  item.insert(item.end(), kTimed.begin(), kTimed.end());
  expect_list(body, "usage", item, "GET /api/usage");
  EXPECT_LE(body.at("usage").as_array().size(), 200u);
  for (const auto& u : body.at("usage").as_array()) expect_seconds(u.as_object(), "ts", "ts_ms", "GET /api/usage");
}

TEST_F(OriginalApiContractTest, SetPriority) {
  for (const char* request : {R"({"ip":"10.77.0.11","priority":"High"})", R"({"ip":"10.77.0.11","priority":3})",
                              R"({"ip":"10.77.0.11","priority":"auto"})"}) {
    auto r = post("/api/set_priority", request);
    ASSERT_EQ(r.status, 200) << request << " -> " << r.body;
    const json::object body = r.json();
    expect_fields(body, {{"ok", Type::Bool}, {"message", Type::String}},
                  std::string("POST /api/set_priority ") + request);
    EXPECT_TRUE(body.at("ok").as_bool());
  }
  auto bad = post("/api/set_priority", R"({"ip":"10.77.0.11","priority":"Turbo"})");
  EXPECT_EQ(bad.status, 400);
  expect_fields(bad.json(), {{"ok", Type::Bool}, {"error", Type::String}}, "POST /api/set_priority (bad)");
}

TEST_F(OriginalApiContractTest, Events) {
  for (int i = 0; i < 60; ++i)
    ASSERT_EQ(post("/api/set_priority", R"({"ip":"10.77.0.11","priority":"High"})").status, 200);
  auto r = get("/api/events");
  ASSERT_EQ(r.status, 200);
  const json::object body = r.json();
  Fields item = {{"level", Type::String}, {"message", Type::String}};
  item.insert(item.end(), kTimed.begin(), kTimed.end());
  expect_list(body, "events", item, "GET /api/events");
  EXPECT_EQ(body.at("events").as_array().size(), 50u) << "newest 50";
  for (const auto& e : body.at("events").as_array()) expect_seconds(e.as_object(), "ts", "ts_ms", "GET /api/events");
}

TEST_F(OriginalApiContractTest, History) {
  const int64_t now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch()).count();
  auto r = get("/api/history?ip=10.77.0.10&from=0&to=" + std::to_string(now_ms + 1));
  ASSERT_EQ(r.status, 200) << r.body;
  const json::object body = r.json();
  expect_fields(body, {{"ok", Type::Bool}, {"history", Type::Array}}, "GET /api/history");
  Fields item = {{"bytes_rx", Type::Integer}, {"bytes_tx", Type::Integer}};
  item.insert(item.end(), kTimed.begin(), kTimed.end());
  expect_list(body, "history", item, "GET /api/history");
  double previous = 0;
  for (const auto& h : body.at("history").as_array()) {
    expect_seconds(h.as_object(), "ts", "ts_ms", "GET /api/history");
    EXPECT_GE(number(h.as_object().at("ts_ms")), previous) << "oldest first";
    previous = number(h.as_object().at("ts_ms"));
  }
  EXPECT_EQ(get("/api/history").status, 400) << "400 without ip";
}

TEST_F(OriginalApiContractTest, Metrics) {
  // A share of Low devices with more decimals than the answer keeps
  // (k of 12 with k not a multiple of 3: 8.333...%, 16.666...%).
  ASSERT_TRUE(agent_->set_auto_mode(false, "test").ok());
  auto low_count = [&] {
    int low = 0;
    const json::object devices = get("/api/devices").json();
    for (const auto& d : devices.at("devices").as_array())
      low += d.as_object().at("priority").to_number<int64_t>() == 3;
    return low;
  };
  for (const char* ip : {"10.77.0.12", "10.77.0.13", "10.77.0.14"}) {
    if (low_count() % 3 != 0) break;
    ASSERT_EQ(post("/api/set_priority", std::string("{\"ip\":\"") + ip + "\",\"priority\":\"Low\"}").status, 200);
  }
  tick();
  const int low = low_count();
  ASSERT_NE(low % 3, 0);
  auto r = get("/api/metrics");
  ASSERT_EQ(r.status, 200);
  const json::object body = r.json();
  ASSERT_TRUE(body.contains("metrics") && body.at("metrics").is_object()) << r.body;
  const json::object& m = body.at("metrics").as_object();
  expect_fields(m,
                {{"total_devices", Type::Integer},
                 {"active_devices", Type::Integer},
                 {"blocked_devices", Type::Integer},
                 {"avg_bytes_per_sample", Type::Number},
                 {"throughput_mbps", Type::Number},
                 {"delay_ms", Type::NumberOrNull},
                 {"packet_loss_percent", Type::NumberOrNull},
                 {"congestion_percent", Type::Number}},
                "GET /api/metrics");
  const double throughput = number(m.at("throughput_mbps"));
  EXPECT_GT(throughput, 0);
  EXPECT_NEAR(throughput * 100, std::round(throughput * 100), 1e-6) << "2 decimals: " << throughput;
  const double congestion = number(m.at("congestion_percent"));
  EXPECT_DOUBLE_EQ(congestion, std::round(low * 1000.0 / 12) / 10) << low << " of 12 devices at Low, 1 decimal";
}

TEST_F(OriginalApiContractTest, BlockUnblockBlocked) {
  auto block = post("/api/block", R"({"ip":"10.77.0.11","reason":"test"})");
  ASSERT_EQ(block.status, 200);
  expect_fields(block.json(), {{"ok", Type::Bool}}, "POST /api/block");
  EXPECT_EQ(post("/api/block", R"({"ip":"10.77.0.14"})").status, 200) << "reason is optional";
  auto blocked = get("/api/blocked");
  ASSERT_EQ(blocked.status, 200);
  const json::object body = blocked.json();
  Fields item = {{"ip", Type::String}, {"reason", Type::String}};
  item.insert(item.end(), kTimed.begin(), kTimed.end());
  expect_list(body, "blocked", item, "GET /api/blocked");
  for (const auto& b : body.at("blocked").as_array()) expect_seconds(b.as_object(), "ts", "ts_ms", "GET /api/blocked");
  auto unblock = post("/api/unblock", R"({"ip":"10.77.0.11"})");
  ASSERT_EQ(unblock.status, 200);
  expect_fields(unblock.json(), {{"ok", Type::Bool}}, "POST /api/unblock");
}

TEST_F(OriginalApiContractTest, AutoToggle) {
  auto r = get("/api/auto_toggle");
  ASSERT_EQ(r.status, 200);
  expect_fields(r.json(), {{"ok", Type::Bool}, {"auto", Type::Bool}}, "GET /api/auto_toggle");
  auto off = post("/api/auto_toggle", R"({"auto":false})");
  ASSERT_EQ(off.status, 200);
  expect_fields(off.json(), {{"ok", Type::Bool}, {"auto", Type::Bool}}, "POST /api/auto_toggle");
  EXPECT_FALSE(off.json()["auto"].as_bool());
  EXPECT_EQ(post("/api/auto_toggle", R"({"auto":"yes"})").status, 400);
}

// The live stream and /api/devices/{ip} carry the same device shape.
TEST_F(OriginalApiContractTest, DeviceShapeIsTheSameEverywhere) {
  auto one = get("/api/devices/10.77.0.10");
  ASSERT_EQ(one.status, 200);
  expect_fields(one.json().at("device").as_object(), kDevice, "GET /api/devices/{ip}");
}

}  // namespace
}  // namespace bwalloc
