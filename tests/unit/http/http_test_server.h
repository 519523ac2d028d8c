// Shared by the HTTP hardening tests: the agent's ports without an agent
// (tests/fakes/fake_agent.h: these test the server, not the agent) behind a
// real HttpServer on 127.0.0.1, and a raw TCP
// client that can bind any loopback source address (all of 127.0.0.0/8 is
// loopback on Linux, so 127.0.0.2 is "another client" without a network).
// Every blocking wait has one generous safety deadline that only turns a
// hang into a failure; no test depends on how long anything takes.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include "agent/http/http_server.h"
#include "tests/fakes/fake_agent.h"

namespace bwalloc::test {

namespace http = boost::beast::http;

inline constexpr std::chrono::seconds kSafetyTimeout{60};

struct RawReply {
  int status = 0;  // 0: no complete response before the peer closed or the safety timeout
  http::response<http::string_body> message;
  std::string body() const { return message.body(); }
  boost::json::object json() const {
    boost::system::error_code ec;
    auto v = boost::json::parse(message.body(), ec);
    return !ec && v.is_object() ? v.as_object() : boost::json::object{};
  }
};

// One TCP connection from a chosen loopback address, with plain POSIX calls
// so each wait can carry the safety deadline.
class RawClient {
 public:
  RawClient(uint16_t port, const std::string& source = "127.0.0.1", int receive_buffer = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (receive_buffer > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    ::inet_pton(AF_INET, source.c_str(), &local.sin_addr);
    sockaddr_in remote{};
    remote.sin_family = AF_INET;
    remote.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &remote.sin_addr);
    connected_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) == 0 &&
                 ::connect(fd_, reinterpret_cast<sockaddr*>(&remote), sizeof remote) == 0;
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;
  RawClient(RawClient&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)), connected_(other.connected_), pending_(std::move(other.pending_)) {}

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // Waits until the socket has something to read (data or the peer's close).
  bool wait_readable(std::chrono::milliseconds limit = kSafetyTimeout) {
    if (!pending_.empty()) return true;
    pollfd p{fd_, POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(limit.count())) == 1;
  }

  // Reads one response; for HEAD requests pass head = true (no body follows).
  RawReply read_response(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    RawReply reply;
    boost::beast::error_code ec;
    for (;;) {
      while (!pending_.empty() && !parser.is_done()) {
        size_t used = parser.put(boost::asio::buffer(pending_), ec);
        if (ec == http::error::need_more) ec = {};
        if (ec) return reply;
        pending_.erase(0, used);
        if (used == 0) break;
      }
      if (parser.is_done()) break;
      if (!read_more()) {
        parser.put_eof(ec);
        if (ec || !parser.is_done()) return reply;
        break;
      }
    }
    reply.message = parser.release();
    reply.status = reply.message.result_int();
    return reply;
  }

  // Reads until `marker` has arrived (or the peer closed, or the safety
  // deadline passed); returns all text read so far.
  std::string read_until(const std::string& marker) {
    auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
    while (pending_.find(marker) == std::string::npos && std::chrono::steady_clock::now() < deadline && read_more()) {
    }
    return pending_;
  }

  // Reads and drops everything until the peer closes the connection; false
  // when the safety deadline passes first.
  bool wait_closed() {
    auto deadline = std::chrono::steady_clock::now() + kSafetyTimeout;
    char buf[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 1000) != 1) continue;
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return true;
    }
    return false;
  }

  std::string& received() { return pending_; }

 private:
  bool read_more() {
    if (!wait_readable()) return false;
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    pending_.append(buf, static_cast<size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string pending_;
};

// A GET (or any method) as raw bytes, with the Host this server accepts.
inline std::string raw_request(const std::string& method, const std::string& target,
                               const std::string& extra_headers = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra_headers + "\r\n";
}

// The fixture: SetUp starts the server, with configure()'s changes, in front
// of a FakeAgent whose tick() publishes the next snapshot.
class HttpServerTest : public ::testing::Test {
 protected:
  virtual void configure(HttpServerConfig&) {}
  virtual void make_web_root(const std::filesystem::path& web) {
    std::ofstream(web / "index.html") << "<!doctype html><title>bwalloc</title>";
  }

  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("bwalloc-httpd-" + std::to_string(getpid()) + "-" + info->test_suite_name() + "-" + info->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "web");
    make_web_root(dir_ / "web");
    agent_ = std::make_unique<FakeAgent>(12);
    for (int i = 0; i < 3; ++i) agent_->tick();

    http_.port = 0;
    http_.token_file = (dir_ / "token").string();
    http_.web_root = (dir_ / "web").string();
    // Long enough that connections a test holds open stay open for the
    // whole test: the tests wait for events, never for this to pass.
    http_.read_timeout = std::chrono::milliseconds(120'000);
    configure(http_);
    auto server = HttpServer::start(http_, *agent_);
    ASSERT_TRUE(server.ok()) << server.message();
    server_ = std::move(*server);
  }

  void TearDown() override {
    if (server_) server_->stop();
    server_.reset();
    agent_.reset();
    std::filesystem::remove_all(dir_);
  }

  uint16_t port() const { return server_->port(); }
  RawClient client(const std::string& source = "127.0.0.1") { return RawClient(port(), source); }

  // One request on a fresh connection from `source`.
  RawReply exchange(const std::string& bytes, const std::string& source = "127.0.0.1", bool head = false) {
    RawClient c = client(source);
    EXPECT_TRUE(c.connected()) << "connect from " << source;
    if (!c.send(bytes)) return {};
    return c.read_response(head);
  }

  std::filesystem::path dir_;
  HttpServerConfig http_;
  std::unique_ptr<FakeAgent> agent_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace bwalloc::test
