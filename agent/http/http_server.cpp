// Beast sessions and listener; see http_server.h.
#include "agent/http/http_server.h"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <mutex>
#include <set>
#include <thread>

#include "agent/common/log.h"
#include "agent/http/access_policy.h"
#include "agent/http/api_token.h"
#include "agent/http/beast_request.h"
#include "agent/http/connection_limiter.h"
#include "agent/http/json_response.h"
#include "agent/http/json_views.h"
#include "agent/http/routes.h"
#include "agent/http/shared_body.h"
#include "agent/http/static_files.h"
#include "agent/http/stream_registry.h"

namespace bwalloc {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {
// access_policy.h's headers, and no-store unless the route set Cache-Control
// (static files may be kept).
void add_security_headers(http::fields& res) {
  for (const auto& [name, value] : response_security_headers()) res.set(name, value);
  if (res.find(http::field::cache_control) == res.end()) res.set(http::field::cache_control, kDefaultCacheControl);
  res.set(http::field::server, "bwalloc");
}

// Out of file descriptors (or kernel memory), accept() leaves the connection
// queued and fails again at once when called again at once: the listener
// waits for one of its sessions to close, or this long, before it retries.
constexpr std::chrono::milliseconds kAcceptRetry{100};

bool out_of_resources(const beast::error_code& ec) {
  return ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system ||
         ec == asio::error::no_buffer_space || ec == asio::error::no_memory;
}

void set_headers(http::fields& res, const HttpResponse& r) {
  res.set(http::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers) res.set(name, value);
  add_security_headers(res);
}

// A response and its serializer, kept together for the whole write.
template <class Body>
struct PendingWrite {
  explicit PendingWrite(http::response<Body> r) : response(std::move(r)), serializer(response) {}
  http::response<Body> response;
  http::response_serializer<Body> serializer;
};
}  // namespace

struct HttpServer::Impl {
  HttpServerConfig config;
  AgentControl& agent;
  RouteContext context;
  ConnectionLimiter limiter;
  StreamRegistry stream_registry;
  std::atomic<size_t> sessions{0};  // alive, admitted or refused: stop() waits for them
  std::atomic<bool> stopping{false};
  std::mutex sessions_mutex;
  std::set<std::shared_ptr<beast::tcp_stream>> streams;  // to close on stop
  // Declared after everything a session touches: destroying the io_context
  // destroys the sessions its pending handlers still hold.
  asio::io_context io{2};
  tcp::acceptor acceptor{io};
  // The listener's own handlers run here, one at a time: accepting, the
  // retry timer, the wake-up when a session closes, and stop().
  asio::strand<asio::io_context::executor_type> accept_strand{asio::make_strand(io)};
  asio::steady_timer accept_retry{accept_strand};
  std::atomic<bool> accept_waiting{false};  // for descriptors (out_of_resources)
  std::vector<std::thread> threads;

  Impl(HttpServerConfig c, AgentControl& a)
      : config(std::move(c)),
        agent(a),
        limiter(config.max_connections, config.max_connections_per_client),
        stream_registry(config.max_stream_clients, config.max_streams_per_client) {}
  void accept();
  void wait_to_accept(const beast::error_code& why);
  // A session ended and freed its descriptor: a waiting listener retries now.
  void session_closed();
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  // `slot` is empty for a connection refused at a cap (see reject_busy).
  Session(tcp::socket socket, HttpServer::Impl& server, asio::ip::address client,
          std::optional<ConnectionLimiter::Slot> slot)
      : stream_(std::make_shared<beast::tcp_stream>(std::move(socket))),
        server_(server),
        client_(client),
        slot_(std::move(slot)) {
    ++server_.sessions;
  }
  ~Session() {
    --server_.sessions;
    {
      std::lock_guard lock(server_.sessions_mutex);
      server_.streams.erase(stream_);
    }
    server_.session_closed();
  }

  void start() {
    {
      std::lock_guard lock(server_.sessions_mutex);
      server_.streams.insert(stream_);
    }
    asio::dispatch(stream_->get_executor(), beast::bind_front_handler(&Session::read, shared_from_this()));
  }

  void reject_busy(const std::string& why) {
    auto res = std::make_shared<http::response<http::string_body>>(to_response(json_error(503, why), 11));
    res->keep_alive(false);
    res->set(http::field::retry_after, "5");
    stream_->expires_after(std::chrono::seconds(5));  // a refusal never holds a socket for long
    http::async_write(*stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) {
      beast::error_code ec;
      self->stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
    });
  }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kHttpHeaderLimit);
    parser_->body_limit(kHttpBodyLimit);
    stream_->expires_after(server_.config.read_timeout);  // slowloris: the whole request in time
    http::async_read(*stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      return close();
    }
    if (ec == http::error::header_limit) return reply_and_close(headers_too_large());
    if (ec == http::error::body_limit) return reply_and_close(body_too_large());
    if (ec) return reply_and_close(json_error(400, "malformed HTTP request: " + ec.message()));

    auto& req = parser_->get();
    auto parsed = to_http_request(req);
    // Ambiguous framing may leave bytes of a smuggled request behind: never
    // read on after one.
    if (!parsed) return reply_and_close(json_error(400, parsed.message()));
    const HttpRequest& request = *parsed;
    HttpResponse response;
    try {
      response = handle_request(request, server_.agent, server_.context);
    } catch (const std::exception& e) {
      // A handler bug must cost one request, never the agent.
      log_error("http", std::string("handler failed: ") + e.what());
      response = json_error(500, "internal error");
    }
    const bool head = !response_has_body(request.method);
    if (response.stream && !head) return start_stream();
    // HEAD on the stream: its headers, then the connection ends as a
    // stream's would.
    keep_alive_ = req.keep_alive() && !response.stream;
    const auto status = static_cast<http::status>(response.status);
    if (response.shared_body && !head) {
      // A static file: written from the cache's one copy (shared_body.h).
      http::response<SharedBody> res{status, req.version()};
      set_headers(res, response);
      res.body() = response.shared_body;
      res.prepare_payload();
      res.keep_alive(keep_alive_);
      return write(std::make_shared<PendingWrite<SharedBody>>(std::move(res)));
    }
    const auto shared_size = response.shared_body ? std::optional<size_t>(response.shared_body->size()) : std::nullopt;
    auto res = to_response(std::move(response), req.version());
    if (head) {  // headers as for GET, Content-Length included; no body
      if (shared_size) res.content_length(*shared_size);
      res.body().clear();
    }
    res.keep_alive(keep_alive_);
    write(std::make_shared<PendingWrite<http::string_body>>(std::move(res)));
  }

  // A deadline for each step of the write, not for the whole answer: a slow
  // link may take its time over 4.5 MB of Plotly, a reader that stopped
  // reading is dropped after one read timeout without progress.
  template <class Body>
  void write(std::shared_ptr<PendingWrite<Body>> pending) {
    stream_->expires_after(server_.config.read_timeout);
    http::async_write_some(*stream_, pending->serializer,
                           [self = shared_from_this(), pending](beast::error_code ec, size_t) {
                             if (ec) return self->close();
                             if (!pending->serializer.is_done()) return self->write(pending);
                             if (!self->keep_alive_) return self->close();
                             self->read();
                           });
  }

  http::response<http::string_body> to_response(HttpResponse r, unsigned version) {
    http::response<http::string_body> res{static_cast<http::status>(r.status), version};
    set_headers(res, r);
    res.body() = std::move(r.body);
    res.prepare_payload();
    return res;
  }

  void reply_and_close(const HttpResponse& r) {
    auto res = std::make_shared<http::response<http::string_body>>(to_response(r, 11));
    res->keep_alive(false);
    stream_->expires_after(std::chrono::seconds(5));
    http::async_write(*stream_, *res, [self = shared_from_this(), res](beast::error_code, size_t) { self->close(); });
  }

  void close() {
    beast::error_code ec;
    stream_->socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_->socket().close(ec);
  }

  // Server-Sent Events: headers once, then one event per new snapshot and
  // a comment line when nothing else went out for a heartbeat. Every write
  // has a deadline, so a peer that vanished or stopped reading is dropped
  // instead of holding its stream for ever.
  void start_stream() {
    membership_.emplace(server_.stream_registry.admit(client_, [weak = weak_from_this(), ex = stream_->get_executor()] {
      asio::post(ex, [weak] {
        if (auto self = weak.lock()) self->end_stream();
      });
    }));
    stream_->expires_never();
    set_stream_socket_options();
    timer_.emplace(stream_->get_executor());
    auto head = std::make_shared<std::string>(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n"
        "X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\nretry: 2000\n\n");
    write_stream(std::move(head));
  }

  // Data the peer has not acknowledged within the write timeout aborts the
  // connection in the kernel, so a peer that vanished without a FIN (a
  // laptop closed, a cable pulled) fails the next write, not one 15 minutes
  // of retransmissions later.
  void set_stream_socket_options() {
#if defined(TCP_USER_TIMEOUT)
    using user_timeout = asio::detail::socket_option::integer<IPPROTO_TCP, TCP_USER_TIMEOUT>;
    beast::error_code ignored;
    stream_->socket().set_option(user_timeout(static_cast<int>(server_.config.stream_write_timeout.count())), ignored);
#endif
  }

  void push_snapshot() {
    if (server_.stopping) return close();
    auto snap = server_.agent.snapshot();
    auto now = std::chrono::steady_clock::now();
    std::shared_ptr<std::string> message;
    if (snap && (!sent_any_ || snap->tick != last_tick_)) {
      message = std::make_shared<std::string>("event: snapshot\ndata: " + snapshot_json(*snap) + "\n\n");
      last_tick_ = snap->tick;
      sent_any_ = true;
    } else if (now - last_write_ >= server_.config.stream_heartbeat) {
      message = std::make_shared<std::string>(": heartbeat\n\n");
    }
    if (!message) return wait_and_push();
    write_stream(std::move(message));
  }

  void write_stream(std::shared_ptr<std::string> message) {
    last_write_ = std::chrono::steady_clock::now();
    stream_->expires_after(server_.config.stream_write_timeout);
    asio::async_write(*stream_, asio::buffer(*message),
                      [self = shared_from_this(), message](beast::error_code ec, size_t) {
                        if (ec) return self->close();
                        self->stream_->expires_never();
                        self->wait_and_push();
                      });
  }

  void wait_and_push() {
    timer_->expires_after(server_.config.stream_poll);
    timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->close();
      self->push_snapshot();
    });
  }

  // Evicted for a newer stream (stream_registry.h): the pending write or
  // wait completes with an error and the session ends.
  void end_stream() {
    if (timer_) timer_->cancel();
    close();
  }

  std::shared_ptr<beast::tcp_stream> stream_;
  HttpServer::Impl& server_;
  asio::ip::address client_;
  std::optional<ConnectionLimiter::Slot> slot_;
  std::optional<StreamRegistry::Membership> membership_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  bool keep_alive_ = false;
  bool sent_any_ = false;
  uint64_t last_tick_ = 0;
  std::chrono::steady_clock::time_point last_write_ = std::chrono::steady_clock::now();
  std::optional<asio::steady_timer> timer_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(
      asio::make_strand(io), asio::bind_executor(accept_strand, [this](beast::error_code ec, tcp::socket socket) {
        if (stopping) return;
        if (out_of_resources(ec)) return wait_to_accept(ec);
        if (!ec) accept_waiting = false;
        beast::error_code peer_ec;
        auto peer = ec ? tcp::endpoint{} : socket.remote_endpoint(peer_ec);
        if (!ec && !peer_ec) {  // a peer gone before its accept has nothing to answer
          auto slot = limiter.acquire(peer.address());
          if (slot) {
            std::make_shared<Session>(std::move(socket), *this, peer.address(), std::move(*slot))->start();
          } else {
            std::make_shared<Session>(std::move(socket), *this, peer.address(), std::nullopt)
                ->reject_busy(slot.message());
          }
        }
        accept();
      }));
}

void HttpServer::Impl::wait_to_accept(const beast::error_code& why) {
  if (!accept_waiting.exchange(true)) {
    log_warn("http", "cannot accept connections: " + why.message() +
                         "; new connections wait until others close (raise the agent's open-file limit: ulimit -n, "
                         "or LimitNOFILE= in its systemd unit)");
  }
  accept_retry.expires_after(kAcceptRetry);
  accept_retry.async_wait([this](beast::error_code) {  // expired, or cancelled by session_closed()
    if (!stopping) accept();
  });
}

void HttpServer::Impl::session_closed() {
  if (!accept_waiting || stopping) return;
  asio::post(accept_strand, [this] { accept_retry.cancel(); });
}

HttpServer::HttpServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpServer::~HttpServer() { stop(); }

Result<std::unique_ptr<HttpServer>> HttpServer::start(const HttpServerConfig& config, AgentControl& agent) {
  auto impl = std::make_unique<Impl>(config, agent);
  auto token = load_or_create_token(config.token_file);
  if (!token) return token.error();
  impl->context.token = *token;
  if (!config.web_root.empty()) impl->context.static_files = std::make_shared<StaticFiles>(config.web_root);
  impl->context.allowed_hosts = {"localhost", "127.0.0.1", "[::1]", config.bind,
                                 config.bind.find(':') != std::string::npos ? "[" + config.bind + "]" : config.bind};
  for (const auto& h : config.allowed_hosts) impl->context.allowed_hosts.push_back(h);

  beast::error_code ec;
  auto address = asio::ip::make_address(config.bind, ec);
  if (ec) return Error{"http.bind '" + config.bind + "' is not an IP address"};
  tcp::endpoint endpoint{address, config.port};
  impl->acceptor.open(endpoint.protocol(), ec);
  if (!ec) impl->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl->acceptor.bind(endpoint, ec);
  if (!ec) impl->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Error{"listen on " + config.bind + ":" + std::to_string(config.port) + ": " + ec.message() +
                 " (is another bwalloc or web server using it? set http.port)"};
  }
  impl->accept();
  for (int i = 0; i < 2; ++i) impl->threads.emplace_back([io = &impl->io] { io->run(); });
  return std::unique_ptr<HttpServer>(new HttpServer(std::move(impl)));
}

uint16_t HttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

const std::string& HttpServer::token() const { return impl_->context.token; }

void HttpServer::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  asio::post(impl_->accept_strand, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
    impl->accept_retry.cancel();
    std::lock_guard lock(impl->sessions_mutex);
    // Each stream belongs to its session's strand: closing it from here
    // while its session closes it on another thread raced (a crash seen in
    // CI), so the close runs on that strand, after the session's handlers.
    for (const auto& s : impl->streams) {
      asio::post(s->get_executor(), [s] {
        beast::error_code ignored;
        s->socket().close(ignored);
      });
    }
  });
  // Sessions end on their own once their sockets are closed; give in-flight
  // writes a moment, then stop the loop.
  for (int i = 0; i < 50 && impl_->sessions > 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace bwalloc
