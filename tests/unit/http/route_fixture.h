// A real agent (simulator datapath, fake clock, SQLite in a temporary
// directory) behind the route table, called directly: handle_request is
// what the server runs for every request, so these tests need no socket.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <boost/json.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

#include "agent/http/routes.h"
#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace bwalloc::test {

struct RouteReply {
  int status = 0;
  std::string body;
  std::string content_type;
  boost::json::object json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(body, ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }
};

class RouteFixture : public ::testing::Test {
 protected:
  static constexpr const char* kToken = "route-test-token";

  // Parts a test may set before start().
  Config config_;
  int devices_ = 12;
  std::function<std::vector<IpAddress>()> router_addresses_;

  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = std::filesystem::temp_directory_path() /
           ("bwalloc-routes-" + std::to_string(getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    config_.store.path = (dir_ / "bwalloc.db").string();
  }
  void TearDown() override {
    agent_.reset();
    datapath_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Starts (or restarts, on the same database) the agent and runs `ticks` ticks.
  void start(int ticks = 3) {
    agent_.reset();
    datapath_ = std::make_unique<SimulatorDatapath>(clock_, devices_, 7);
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok()) << store.message();
    AgentParts parts{config_, datapath_.get(), std::move(*store), &clock_, discovery_, nullptr};
    parts.router_addresses = router_addresses_;
    agent_ = std::make_unique<Agent>(std::move(parts));
    auto restored = agent_->restore();
    ASSERT_TRUE(restored.ok()) << restored.message();
    for (int i = 0; i < ticks; ++i) tick();
  }
  void tick() {
    clock_.advance(std::chrono::seconds(1));
    agent_->tick();
  }

  RouteReply call(const std::string& method, const std::string& target, const std::string& body = "") {
    HttpRequest request;
    request.method = method;
    request.target = target;
    request.body = body;
    request.headers["host"] = "127.0.0.1";
    if (method != "GET") {
      request.headers["authorization"] = std::string("Bearer ") + kToken;
      request.headers["x-requested-with"] = "bwalloc";
    }
    RouteContext context;
    context.token = kToken;
    context.allowed_hosts = {"127.0.0.1", "localhost"};
    HttpResponse response = handle_request(request, *agent_, context);
    return RouteReply{response.status, response.body, response.content_type};
  }
  RouteReply get(const std::string& target) { return call("GET", target); }
  RouteReply post(const std::string& target, const std::string& body) { return call("POST", target, body); }

  std::filesystem::path dir_;
  FakeClock clock_;
  std::unique_ptr<SimulatorDatapath> datapath_;
  Discovery* discovery_ = nullptr;  // not owned
  std::unique_ptr<Agent> agent_;
};

}  // namespace bwalloc::test
