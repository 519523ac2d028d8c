// HttpServer: Boost.Beast over TCP, in the shape of Beast's advanced server:
// an io_context with a small thread pool, one session per connection on a
// strand, a timeout before every read, header and body limits, a connection
// cap, and Server-Sent Events for /api/stream. Requests go to the pure
// handlers in routes.h.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/agent_control.h"
#include "agent/common/result.h"

namespace bwalloc {

struct HttpServerConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;  // 0: any free port (see port())
  std::string token_file;
  std::string web_root;
  std::vector<std::string> allowed_hosts;
  std::chrono::milliseconds read_timeout{10'000};  // whole request; slow clients are dropped
  size_t max_connections = 256;
  size_t max_stream_clients = 64;
  std::chrono::milliseconds stream_poll{250};
};

class HttpServer {
 public:
  [[nodiscard]] static Result<std::unique_ptr<HttpServer>> start(const HttpServerConfig& config, AgentControl& agent);
  ~HttpServer();
  uint16_t port() const;
  const std::string& token() const;
  // Closes the listener and every session; returns when the threads are done.
  void stop();

  struct Impl;

 private:
  explicit HttpServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace bwalloc
