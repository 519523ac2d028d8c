// Every HTTP security rule of the API, in one place and as tables: which
// Hosts are served (against DNS rebinding), which methods a path answers,
// who may call what (the API token, no foreign Origin and the
// X-Requested-With header for anything that changes state), how large a
// request may be, what a HEAD gets, and the headers every response carries.
// Pure: a request and the agent's credentials in, a decision out.
//
// request_policy.h checks the syntax of the framing and identity headers
// first (a Host that is not host[:port] never gets here); http_server.cpp
// applies the size limits while parsing and the HEAD and header rules while
// writing; routes.cpp asks decide_access() before any handler runs.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "agent/http/http_message.h"

namespace bwalloc {

// Larger requests are refused while parsing (431, 413): the API's bodies are
// a few hundred bytes, and a limit bounds what one connection can pin.
inline constexpr size_t kHttpHeaderLimit = 8 * 1024;
inline constexpr size_t kHttpBodyLimit = 64 * 1024;

struct AccessContext {
  std::string token;                       // the API token (api_token.h)
  std::vector<std::string> allowed_hosts;  // host names accepted in Host and Origin
};

enum class Access {
  Open,   // anyone the Host check admits: the dashboard has no login
  Admin,  // the API token, no foreign Origin, and X-Requested-With: bwalloc
};

// Who may call `method` on `path` (HEAD counts as GET); nullopt when no rule
// names the pair, and such a request is refused.
[[nodiscard]] std::optional<Access> access_for(std::string_view method, std::string_view path);

struct AccessDecision {
  enum class Outcome {
    Route,       // the route table's handler answers
    StaticFile,  // no route: a file from the web root answers
    Refused,     // `refusal` answers
  };
  Outcome outcome = Outcome::Refused;
  HttpResponse refusal;  // the status, a JSON error and headers such as Allow or WWW-Authenticate
};

// The decision for `request`, whose decoded path is `path`; `route_methods`
// are the methods the route table answers at that path, in table order
// (empty: no route). In this order: a Host not allowed gets 421; a path with
// no route gets 404 under /api and for methods other than GET and HEAD, else
// StaticFile; a method the path does not answer gets 405 with Allow; then
// the path and method's Access: an Admin request with a foreign Origin gets
// 403, without the right token 401, without X-Requested-With 403.
[[nodiscard]] AccessDecision decide_access(const HttpRequest& request, const std::string& path,
                                           const std::vector<std::string_view>& route_methods,
                                           const AccessContext& context);

// Whether a Host header value or an Origin URL names a host in the allow-list
// (the port is not compared).
[[nodiscard]] bool host_allowed(std::string_view host_or_origin, const AccessContext& context);

// HEAD is GET without the body (RFC 9110 9.3.2): it is routed as GET, and
// its response keeps the headers, Content-Length included, but no body.
[[nodiscard]] std::string_view routed_method(std::string_view method);
[[nodiscard]] bool response_has_body(std::string_view method);

// The answers to requests over the limits above.
[[nodiscard]] HttpResponse headers_too_large();
[[nodiscard]] HttpResponse body_too_large();

struct HeaderField {
  std::string_view name;
  std::string_view value;
};

// Set on every response, over whatever the route set.
[[nodiscard]] std::span<const HeaderField> response_security_headers();

// Cache-Control for a response whose route set none: never stored.
inline constexpr std::string_view kDefaultCacheControl = "no-store";

}  // namespace bwalloc
