// HttpServer: Boost.Beast over TCP, in the shape of Beast's advanced server:
// an io_context with a small thread pool, one session per connection on a
// strand, a timeout before every read, header and body limits, connection
// caps (in all and per client address), and Server-Sent Events for
// /api/stream with a heartbeat, write timeouts and eviction at the caps.
// Out of file descriptors, the listener waits for a session to close (or a
// short timer) instead of retrying accept() in a busy loop. Requests go to
// the pure handlers in routes.h, behind access_policy.h.
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
  // One address (a slowloris client, a runaway script) fills only its own
  // share, so every other address is still served. All local programs share
  // 127.0.0.1 and a dashboard tab opens about six connections and a stream,
  // so the share leaves room for several dashboards behind one address.
  size_t max_connections_per_client = 64;
  // Live dashboards. At a cap a new stream evicts an old one rather than
  // being refused (stream_registry.h says which one).
  size_t max_stream_clients = 64;
  size_t max_streams_per_client = 16;
  std::chrono::milliseconds stream_poll{250};
  // A comment line when no snapshot went out for this long: proxies keep
  // the connection, and a vanished peer fails a write.
  std::chrono::milliseconds stream_heartbeat{15'000};
  // A stream write (or unacknowledged data, via TCP_USER_TIMEOUT) taking
  // longer than this ends the stream: the peer is gone or not reading.
  std::chrono::milliseconds stream_write_timeout{30'000};
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
