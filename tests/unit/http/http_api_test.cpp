// The HTTP API over real sockets on 127.0.0.1, in front of a real agent
// (simulator datapath, real SQLite file): every route with good and bad
// input, the security rules (token, Origin, Host, methods, size limits,
// slow clients), SSE, Prometheus text, static files, and garbage that must
// never take the server down.
#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "agent/http/http_server.h"
#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"

namespace bwalloc {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;

struct Reply {
  int status = 0;
  std::string body;
  http::response<http::string_body> raw;
  json::object json() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return !ec && v.is_object() ? v.as_object() : json::object{};
  }
};

class HttpApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-http-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "web" / "js");
    std::ofstream(dir_ / "web" / "index.html") << "<!doctype html><title>bwalloc</title>";
    std::ofstream(dir_ / "web" / "js" / "app.js") << "export {};";
    std::ofstream(dir_ / "secret.txt") << "outside the web root";
    std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "web" / "link.txt");

    config_.store.path = (dir_ / "bwalloc.db").string();
    datapath_ = std::make_unique<SimulatorDatapath>(clock_, 12, 7);
    auto store = SqliteStore::open(config_.store.path);
    ASSERT_TRUE(store.ok()) << store.message();
    agent_ =
        std::make_unique<Agent>(AgentParts{config_, datapath_.get(), std::move(*store), &clock_, nullptr, nullptr});
    ASSERT_TRUE(agent_->restore().ok());
    for (int i = 0; i < 3; ++i) agent_->tick();

    HttpServerConfig http;
    http.port = 0;
    http.token_file = (dir_ / "token").string();
    http.web_root = (dir_ / "web").string();
    http.read_timeout = std::chrono::milliseconds(1000);
    auto server = HttpServer::start(http, *agent_);
    ASSERT_TRUE(server.ok()) << server.message();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }

  Reply request(http::verb method, const std::string& target, const std::string& body = "",
                std::vector<std::pair<std::string, std::string>> headers = {}, bool auth = false) {
    asio::io_context io;
    tcp::socket socket(io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "127.0.0.1:" + std::to_string(server_->port()));
    if (auth) {
      req.set(http::field::authorization, "Bearer " + server_->token());
      req.set("X-Requested-With", "bwalloc");
    }
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::write(socket, req);
    beast::flat_buffer buffer;
    Reply reply;
    http::read(socket, buffer, reply.raw);
    reply.status = reply.raw.result_int();
    reply.body = reply.raw.body();
    return reply;
  }
  Reply get(const std::string& target) { return request(http::verb::get, target); }
  Reply post(const std::string& target, const std::string& body, bool auth = true) {
    return request(http::verb::post, target, body, {}, auth);
  }

  std::string priority_of(const std::string& ip) {
    json::object devices = get("/api/devices").json();
    for (const auto& d : devices["devices"].as_array()) {
      if (d.as_object().at("ip").as_string() == ip) return std::string(d.as_object().at("priority_name").as_string());
    }
    return "";
  }

  std::filesystem::path dir_;
  SystemClock clock_;
  Config config_;
  std::unique_ptr<SimulatorDatapath> datapath_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpApiTest, OriginalRoutesKeepTheirShapes) {
  auto devices = get("/api/devices");
  ASSERT_EQ(devices.status, 200);
  auto list = devices.json()["devices"].as_array();
  ASSERT_EQ(list.size(), 12u);
  for (const char* key : {"ip", "mac", "hostname", "priority", "last_seen"}) {
    EXPECT_TRUE(list[0].as_object().contains(key)) << key;
  }
  auto metrics = get("/api/metrics").json()["metrics"].as_object();
  for (const char* key : {"total_devices", "active_devices", "blocked_devices", "avg_bytes_per_sample",
                          "throughput_mbps", "delay_ms", "packet_loss_percent", "congestion_percent"}) {
    EXPECT_TRUE(metrics.contains(key)) << key;
  }
  EXPECT_EQ(metrics["total_devices"].as_int64(), 12);
  auto usage = get("/api/usage").json();
  ASSERT_TRUE(usage.contains("usage"));
  ASSERT_FALSE(usage["usage"].as_array().empty());
  for (const char* key : {"ip", "ts", "bytes_rx", "bytes_tx"})
    EXPECT_TRUE(usage["usage"].as_array()[0].as_object().contains(key));
  EXPECT_TRUE(get("/api/events").json().contains("events"));
  EXPECT_TRUE(get("/api/blocked").json().contains("blocked"));
  auto toggle = get("/api/auto_toggle").json();
  EXPECT_TRUE(toggle["ok"].as_bool());
  EXPECT_TRUE(toggle["auto"].as_bool());
}

TEST_F(HttpApiTest, BlockUnblockPriorityAndAutoWork) {
  ASSERT_EQ(post("/api/block", R"({"ip":"10.77.0.11","reason":"test"})").status, 200);
  EXPECT_EQ(priority_of("10.77.0.11"), "Blocked");
  EXPECT_EQ(get("/api/blocked").json()["blocked"].as_array().size(), 1u);
  ASSERT_EQ(post("/api/unblock", R"({"ip":"10.77.0.11"})").status, 200);
  EXPECT_EQ(priority_of("10.77.0.11"), "Normal");
  auto set = post("/api/set_priority", R"({"ip":"10.77.0.12","priority":"Low"})");
  ASSERT_EQ(set.status, 200) << set.body;
  EXPECT_TRUE(set.json()["ok"].as_bool());
  EXPECT_FALSE(std::string(set.json()["message"].as_string()).empty());
  agent_->tick();
  EXPECT_EQ(priority_of("10.77.0.12"), "Low") << "a manual priority holds against the allocator";
  auto detail = get("/api/devices/10.77.0.12").json()["device"].as_object();
  EXPECT_TRUE(detail["manual"].as_bool());
  EXPECT_EQ(detail["down_limit_bits_per_sec"].as_int64(), 5'000'000);
  ASSERT_EQ(request(http::verb::delete_, "/api/devices/10.77.0.12/priority", "", {}, true).status, 200);
  EXPECT_FALSE(get("/api/devices/10.77.0.12").json()["device"].as_object()["manual"].as_bool());
  auto off = post("/api/auto_toggle", R"({"auto":false})");
  ASSERT_EQ(off.status, 200);
  EXPECT_FALSE(off.json()["auto"].as_bool());
  EXPECT_FALSE(get("/api/auto_toggle").json()["auto"].as_bool());
  auto history = get("/api/history?ip=10.77.0.10");
  ASSERT_EQ(history.status, 200);
  EXPECT_TRUE(history.json()["ok"].as_bool());
  auto events = get("/api/events").json()["events"].as_array();
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0].as_object().at("level").as_string(), "ADMIN");
}

TEST_F(HttpApiTest, BadInputGets400WithJsonError) {
  struct Case {
    const char* target;
    const char* body;
  };
  for (const Case& c :
       {Case{"/api/block", R"({"ip":"10.0.0.999"})"}, Case{"/api/block", R"({"ip":"10.0.0.1; reboot"})"},
        Case{"/api/block", "not json"}, Case{"/api/block", "[1,2]"}, Case{"/api/block", R"({"ip":7})"},
        Case{"/api/set_priority", R"({"ip":"10.77.0.11","priority":"Turbo"})"},
        Case{"/api/set_priority", R"({"ip":"10.77.0.11","priority":9})"},
        Case{"/api/set_priority", R"({"ip":"10.77.0.11"})"}, Case{"/api/auto_toggle", R"({"auto":"yes"})"},
        Case{"/api/unblock", "{}"}, Case{"/api/config", R"({"changes":{"rates.low":"fast"}})"},
        Case{"/api/config", R"({"changes":{"store.path":"/tmp/x"}})"}}) {
    auto r = post(c.target, c.body);
    EXPECT_EQ(r.status, 400) << c.target << " " << c.body << " -> " << r.body;
    EXPECT_FALSE(r.json()["ok"].as_bool());
    EXPECT_TRUE(r.json()["error"].is_string());
  }
  EXPECT_EQ(get("/api/history").status, 400) << "history without ip";
  EXPECT_EQ(get("/api/history?ip=nonsense").status, 400);
  EXPECT_EQ(get("/api/history?ip=10.77.0.10&resolution=week").status, 400);
  EXPECT_EQ(get("/api/devices/not-an-ip").status, 400);
  EXPECT_EQ(get("/api/devices/10.1.2.3").status, 404);
  EXPECT_EQ(get("/api/nothing").status, 404);
}

TEST_F(HttpApiTest, SecurityRules) {
  EXPECT_EQ(post("/api/block", R"({"ip":"10.77.0.11"})", false).status, 401) << "no token";
  auto wrong = request(http::verb::post, "/api/block", R"({"ip":"10.77.0.11"})",
                       {{"Authorization", "Bearer " + std::string(64, '0')}, {"X-Requested-With", "bwalloc"}});
  EXPECT_EQ(wrong.status, 401);
  auto no_csrf_header = request(http::verb::post, "/api/block", R"({"ip":"10.77.0.11"})",
                                {{"Authorization", "Bearer " + server_->token()}});
  EXPECT_EQ(no_csrf_header.status, 403);
  auto origin =
      request(http::verb::post, "/api/block", R"({"ip":"10.77.0.11"})", {{"Origin", "http://evil.example"}}, true);
  EXPECT_EQ(origin.status, 403);
  EXPECT_NE(priority_of("10.77.0.11"), "Blocked") << "refused requests change nothing";
  auto host = request(http::verb::get, "/api/devices", "", {{"Host", "evil.example"}});
  EXPECT_EQ(host.status, 421);
  auto get_block = get("/api/block");
  EXPECT_EQ(get_block.status, 405) << "GET on a mutating route";
  EXPECT_EQ(get_block.raw["Allow"], "POST");
  auto r = get("/api/devices");
  EXPECT_NE(r.raw["Content-Security-Policy"].find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(r.raw["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(r.raw["Cache-Control"], "no-store");
  EXPECT_TRUE(r.raw["Access-Control-Allow-Origin"].empty()) << "no CORS";
  auto perms = std::filesystem::status(dir_ / "token").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

TEST_F(HttpApiTest, SizeLimits) {
  auto big = post("/api/block", "{\"ip\":\"10.77.0.11\",\"reason\":\"" + std::string(70'000, 'x') + "\"}");
  EXPECT_EQ(big.status, 413);
  auto headers = request(http::verb::get, "/api/devices", "", {{"X-Filler", std::string(9000, 'y')}});
  EXPECT_EQ(headers.status, 431);
}

TEST_F(HttpApiTest, StaticFilesAndNoTraversal) {
  auto index = get("/");
  EXPECT_EQ(index.status, 200);
  EXPECT_NE(index.raw[http::field::content_type].find("text/html"), std::string::npos);
  EXPECT_NE(get("/js/app.js").raw[http::field::content_type].find("javascript"), std::string::npos);
  EXPECT_NE(get("/../secret.txt").status, 200);
  EXPECT_NE(get("/%2e%2e/secret.txt").status, 200);
  EXPECT_EQ(get("/link.txt").status, 404) << "a symlink out of the web root";
}

TEST_F(HttpApiTest, HealthAndPrometheus) {
  auto health = get("/health");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.json()["backend"].as_string(), "simulator");
  EXPECT_TRUE(health.json()["db_ok"].as_bool());
  auto metrics = get("/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.raw[http::field::content_type].find("version=0.0.4"), std::string::npos);
  std::istringstream lines(metrics.body);
  std::string line;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.empty() || line[0] == '#') continue;
    // name{labels} value  |  name value
    auto space = line.rfind(' ');
    ASSERT_NE(space, std::string::npos) << line;
    EXPECT_NO_THROW((void)std::stod(line.substr(space + 1))) << line;
    ++samples;
  }
  EXPECT_GT(samples, 12 * 4);
  EXPECT_NE(metrics.body.find("bwalloc_device_rx_bytes_total{ip=\"10.77.0.10\"}"), std::string::npos);
}

TEST_F(HttpApiTest, StreamPushesSnapshots) {
  asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  std::string req = "GET /api/stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  asio::write(socket, asio::buffer(req));
  std::string received;
  std::thread ticker([&] {
    for (int i = 0; i < 5; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      agent_->tick();
    }
  });
  char buf[65536];
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int events = 0;
  while (events < 2 && std::chrono::steady_clock::now() < deadline) {
    boost::system::error_code ec;
    size_t n = socket.read_some(asio::buffer(buf), ec);
    if (ec) break;
    received.append(buf, n);
    events = 0;
    for (size_t at = received.find("event: snapshot"); at != std::string::npos;
         at = received.find("event: snapshot", at + 1))
      ++events;
  }
  ticker.join();
  EXPECT_NE(received.find("text/event-stream"), std::string::npos);
  EXPECT_GE(events, 2) << received.substr(0, 300);
  EXPECT_NE(received.find("\"devices\":["), std::string::npos);
}

TEST_F(HttpApiTest, SlowClientIsDroppedAndGarbageNeverKillsTheServer) {
  asio::io_context io;
  tcp::socket slow(io);
  slow.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  asio::write(slow, asio::buffer(std::string("GET /api/devices HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")));
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));  // 3x the 1 s read timeout
  boost::system::error_code ec;
  char c;
  slow.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec) << "a client that never finishes its headers is disconnected";

  std::mt19937 rng(1);
  for (int i = 0; i < 1000; ++i) {
    tcp::socket s(io);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    std::string junk(static_cast<size_t>(rng() % 300 + 1), ' ');
    for (auto& ch : junk) ch = static_cast<char>(rng() % 256);
    if (i % 3 == 0) junk = "POST /api/block HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n" + junk;
    asio::write(s, asio::buffer(junk), ec);
    s.shutdown(tcp::socket::shutdown_send, ec);
    s.read_some(asio::buffer(&c, 1), ec);
  }
  EXPECT_EQ(get("/api/devices").status, 200) << "still serving after 1,000 garbage requests";
}

}  // namespace
}  // namespace bwalloc
