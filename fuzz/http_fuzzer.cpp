// libFuzzer harness for HTTP request handling: arbitrary bytes go through
// Beast's request parser with the server's limits, the same conversion the
// server uses (to_http_request) and the route table (handle_request) of a
// real Agent (simulator datapath, fake clock, SQLite in a temporary
// directory). No socket per input: the server only moves these bytes.
// Checks: no crash or exception, a status in 200-599, every 4xx/5xx is the
// JSON error body {"ok": false, "error": "..."}, 500 never happens, and
// every JSON or text body is valid UTF-8 (JSON bodies parse). After a
// state-changing request succeeds, the read routes are fetched and checked
// too: what one request stores (a block reason) is served by others.
#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "agent/common/log.h"
#include "agent/common/utf8.h"
#include "agent/http/beast_request.h"
#include "agent/http/routes.h"
#include "agent/http/static_files.h"
#include "agent/runtime/agent.h"
#include "agent/simulator/simulator_datapath.h"
#include "tests/fakes/fake_clock.h"

namespace {

using namespace bwalloc;
namespace http = boost::beast::http;

struct World {
  std::string dir;
  FakeClock clock;
  SimulatorDatapath datapath{clock, 8, 1};
  std::unique_ptr<Agent> agent;
  RouteContext context;
  uint64_t inputs = 0;
};

World* world = nullptr;

void remove_world() {
  if (!world) return;
  world->agent.reset();
  std::filesystem::remove_all(world->dir);
}

[[noreturn]] void finding(const std::string& what, const HttpRequest& request, const HttpResponse& response) {
  std::fprintf(stderr, "%s: %s %s -> %d %s\n", what.c_str(), request.method.c_str(), request.target.c_str(),
               response.status, response.body.substr(0, 300).c_str());
  std::abort();
}

void check_body(const HttpRequest& request, const HttpResponse& response) {
  const std::string& type = response.content_type;
  const bool json = type.rfind("application/json", 0) == 0;
  if (!json && type.rfind("text/", 0) != 0) return;  // images: bytes, not text
  if (!is_valid_utf8(response.body)) finding("body is not valid UTF-8", request, response);
  if (json && !response.stream) {
    boost::system::error_code ec;
    (void)boost::json::parse(response.body, ec);
    if (ec) finding("body is not JSON (" + ec.message() + ")", request, response);
  }
}

// The routes that serve what state-changing requests stored.
void check_read_routes(const HttpRequest& after) {
  for (const char* target : {"/api/blocked", "/api/events", "/api/devices", "/api/usage"}) {
    HttpRequest read;
    read.method = "GET";
    read.target = target;
    read.headers["host"] = "localhost";
    const HttpResponse response = handle_request(read, *world->agent, world->context);
    if (response.status != 200) finding(std::string("read route failed after ") + after.target, read, response);
    check_body(read, response);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  set_log_level(LogLevel::Error);
  world = new World;
  char tmpl[] = "/tmp/bwh4-fuzz-http-XXXXXX";
  if (!mkdtemp(tmpl)) std::abort();
  world->dir = tmpl;
  std::atexit(remove_world);
  AgentParts parts;
  parts.config.store.path = world->dir + "/bwalloc.db";
  parts.datapath = &world->datapath;
  auto store = SqliteStore::open(parts.config.store.path);
  if (!store) {
    std::fprintf(stderr, "http fuzzer: %s\n", store.message().c_str());
    std::abort();
  }
  parts.store = std::move(*store);
  parts.clock = &world->clock;
  world->agent = std::make_unique<Agent>(std::move(parts));
  (void)world->agent->restore();
  for (int i = 0; i < 5; ++i) {  // devices, rates and history to answer about
    world->clock.advance(std::chrono::seconds(1));
    world->agent->tick();
  }
  world->context.token = "fuzz-token";  // the seeds carry it, so mutating routes are reached
  world->context.allowed_hosts = {"localhost", "127.0.0.1", "[::1]"};
  world->context.static_files = std::make_shared<StaticFiles>(BWALLOC_WEB_ROOT);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  http::request_parser<http::string_body> parser;
  parser.header_limit(kHttpHeaderLimit);
  parser.body_limit(kHttpBodyLimit);
  parser.eager(true);
  boost::beast::error_code ec;
  size_t used = 0;
  while (!parser.is_done() && used < size) {
    size_t n = parser.put(boost::asio::buffer(data + used, size - used), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || n == 0) break;
    used += n;
  }
  if (!ec && !parser.is_done()) parser.put_eof(ec);
  if (ec || !parser.is_done()) return 0;  // the server answers these with 400/413/431 itself

  const auto parsed = to_http_request(parser.get());
  if (!parsed) return 0;  // request_policy.h's rules: the server answers 400 and closes
  const HttpRequest& request = *parsed;
  const HttpResponse response = handle_request(request, *world->agent, world->context);
  if (response.status < 200 || response.status > 599) finding("status out of range", request, response);
  if (response.status == 500) finding("internal error", request, response);
  if (response.status >= 400) {
    boost::system::error_code jec;
    auto body = boost::json::parse(response.body, jec);
    const auto* object = jec ? nullptr : body.if_object();
    if (!object || !object->contains("ok") || !(*object).at("ok").is_bool() || (*object).at("ok").as_bool() ||
        !object->contains("error") || !(*object).at("error").is_string()) {
      finding("error without the JSON error body", request, response);
    }
  }
  check_body(request, response);
  if (request.method != "GET" && request.method != "HEAD" && response.status < 300) check_read_routes(request);
  // Time moves on now and then, so handlers see ticks, rates and history.
  if (++world->inputs % 64 == 0) {
    world->clock.advance(std::chrono::seconds(1));
    world->agent->tick();
  }
  return 0;
}
