// /api/block, /api/set_priority and /api/devices/{ip}/priority accept only
// unicast device addresses: the unspecified, loopback, multicast and
// broadcast addresses and the router's own get a 400 that says why, and no
// device row; an embedded NUL does not shorten an address into a valid one.
#include <algorithm>
#include <set>

#include "agent/runtime/router_addresses.h"
#include "tests/unit/http/route_fixture.h"

namespace bwalloc {
namespace {

class DeviceAddressApiTest : public test::RouteFixture {
 protected:
  std::set<std::string> device_ips() {
    std::set<std::string> ips;
    const boost::json::object body = get("/api/devices").json();
    for (const auto& d : body.at("devices").as_array()) {
      ips.insert(std::string(d.as_object().at("ip").as_string()));
    }
    return ips;
  }
};

const char* const kNotDevices[] = {"0.0.0.0", "::",      "255.255.255.255", "127.0.0.1", "224.0.0.1",     "ff02::1",
                                   "::1",     "0.1.2.3", "240.0.0.1",       "fe80::1",   "::ffff:0.0.0.0"};

TEST_F(DeviceAddressApiTest, NonDeviceAddressesGet400AndNoRow) {
  start();
  const auto before = device_ips();
  for (const char* address : kNotDevices) {
    const std::string ip = address;
    for (const auto& [target, body] :
         {std::pair{std::string("/api/block"), "{\"ip\":\"" + ip + "\",\"reason\":\"test\"}"},
          std::pair{std::string("/api/set_priority"), "{\"ip\":\"" + ip + "\",\"priority\":\"Low\"}"},
          std::pair{std::string("/api/set_priority"), "{\"ip\":\"" + ip + "\",\"priority\":0}"},
          std::pair{"/api/devices/" + ip + "/priority", std::string("{\"priority\":\"High\"}")}}) {
      auto r = post(target, body);
      EXPECT_EQ(r.status, 400) << target << " " << body << " -> " << r.body;
      auto error = r.json()["error"];
      ASSERT_TRUE(error.is_string()) << r.body;
      EXPECT_NE(std::string(error.as_string()).find("not a device address"), std::string::npos)
          << "says why: " << r.body;
    }
    auto release = call("DELETE", "/api/devices/" + ip + "/priority");
    EXPECT_EQ(release.status, 400) << ip << " -> " << release.body;
    auto unblock = post("/api/unblock", "{\"ip\":\"" + ip + "\"}");
    EXPECT_EQ(unblock.status, 400) << "unblocking an address never blocked makes no row either: " << unblock.body;
  }
  tick();
  EXPECT_EQ(device_ips(), before) << "no device rows were made";
  EXPECT_TRUE(get("/api/blocked").json()["blocked"].as_array().empty());
}

TEST_F(DeviceAddressApiTest, TheReasonSaysWhatTheAddressIs) {
  start();
  auto r = post("/api/block", R"({"ip":"0.0.0.0"})");
  ASSERT_EQ(r.status, 400);
  std::string error(r.json()["error"].as_string());
  EXPECT_NE(error.find("0.0.0.0"), std::string::npos) << error;
  EXPECT_NE(error.find("DHCP"), std::string::npos) << "blocking it would cut off DHCP: " << error;
  r = post("/api/block", R"({"ip":"224.0.0.1"})");
  EXPECT_NE(std::string(r.json()["error"].as_string()).find("multicast"), std::string::npos) << r.body;
}

TEST_F(DeviceAddressApiTest, AnEmbeddedNulIsNotTheAddressBeforeIt) {
  start();
  auto block = post("/api/block", R"({"ip":"10.0.0.9\u0000x"})");
  EXPECT_EQ(block.status, 400) << block.body;
  auto priority = post("/api/set_priority", R"({"ip":"10.0.0.9\u0000","priority":"Low"})");
  EXPECT_EQ(priority.status, 400) << priority.body;
  auto path = post("/api/devices/10.0.0.9%00x/priority", R"({"priority":"Low"})");
  EXPECT_EQ(path.status, 400) << path.body;
  EXPECT_EQ(get("/api/history?ip=10.0.0.9%00x").status, 400);
  tick();
  EXPECT_EQ(device_ips().count("10.0.0.9"), 0u) << "no row for the address before the NUL";
}

TEST_F(DeviceAddressApiTest, UnicastDevicesStillWork) {
  start();
  EXPECT_EQ(post("/api/block", R"({"ip":"10.0.0.9"})").status, 200);
  EXPECT_EQ(post("/api/unblock", R"({"ip":"10.0.0.9"})").status, 200);
  EXPECT_EQ(post("/api/set_priority", R"({"ip":"fd00:10::11","priority":"Low"})").status, 200);
  EXPECT_EQ(post("/api/set_priority", R"({"ip":"192.168.1.20","priority":"auto"})").status, 200);
}

TEST_F(DeviceAddressApiTest, TheRoutersOwnAddressesAreRefused) {
  router_addresses_ = [] {
    return std::vector<IpAddress>{*IpAddress::parse("10.77.0.1"), *IpAddress::parse("fd00:77::1")};
  };
  start();
  for (const char* own : {"10.77.0.1", "fd00:77::1"}) {
    auto r = post("/api/block", std::string("{\"ip\":\"") + own + "\"}");
    EXPECT_EQ(r.status, 400) << r.body;
    EXPECT_NE(r.body.find("router"), std::string::npos) << r.body;
    EXPECT_EQ(post("/api/set_priority", std::string("{\"ip\":\"") + own + "\",\"priority\":\"Low\"}").status, 400);
  }
  EXPECT_EQ(post("/api/block", R"({"ip":"10.77.0.2"})").status, 200) << "its neighbours are devices";
}

// The reader the agent is given on Linux: this namespace's own addresses.
TEST(RouterAddresses, IncludeLoopbackOfThisNamespace) {
  auto own = read_router_addresses();
  ASSERT_TRUE(own.ok()) << own.message();
  EXPECT_NE(std::find(own->begin(), own->end(), *IpAddress::parse("127.0.0.1")), own->end());
}

// A block of 0.0.0.0 saved by a version that allowed it is not put back
// into the datapath at the next start (it would drop every DHCP discovery).
TEST_F(DeviceAddressApiTest, ASavedBlockOfANonDeviceAddressIsDroppedAtStart) {
  {
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok());
    TickRecord record;
    record.ts_ms = 1'800'000'000'000;
    const IpAddress zero = *IpAddress::parse("0.0.0.0");
    record.blocks.push_back(BlockRecord{zero, "blocked by an older version", record.ts_ms});
    DeviceRecord row;
    row.ip = zero;
    row.priority = Priority::Blocked;
    record.devices.push_back(row);
    ASSERT_TRUE((*store)->write_tick(record).ok());
  }
  start();
  EXPECT_EQ(device_ips().count("0.0.0.0"), 0u);
  EXPECT_TRUE(get("/api/blocked").json()["blocked"].as_array().empty()) << get("/api/blocked").body;
  bool said = false;
  const boost::json::object events = get("/api/events").json();
  for (const auto& e : events.at("events").as_array()) {
    const auto& o = e.as_object();
    if (o.at("level").as_string() == "ERROR" &&
        std::string(o.at("message").as_string()).find("0.0.0.0") != std::string::npos) {
      said = true;
    }
  }
  EXPECT_TRUE(said) << get("/api/events").body;
}

}  // namespace
}  // namespace bwalloc
