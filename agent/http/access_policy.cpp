// The HTTP security rules; see access_policy.h.
#include "agent/http/access_policy.h"

#include <array>

#include "agent/http/api_token.h"
#include "agent/http/json_response.h"

namespace bwalloc {

namespace {

struct AccessRule {
  std::string_view method;
  std::string_view path_prefix;
  Access access;
};

// Who may call what; the first row whose method and path prefix match
// decides. Reads are open: the dashboard, its data and /health and /metrics
// for monitoring. Whatever changes state needs the admin's credentials.
// A new route with another method gets no row by accident: it is refused.
constexpr std::array kAccessRules = {
    AccessRule{"GET", "/", Access::Open},
    AccessRule{"POST", "/api/", Access::Admin},
    AccessRule{"DELETE", "/api/", Access::Admin},
};

// Scripts only from our own files. Plotly injects its chart styles at run
// time, so styles (not scripts) allow inline. No frames, no referrer, no
// MIME sniffing; no Access-Control-* header, so no cross-origin reads.
constexpr std::array kSecurityHeaders = {
    HeaderField{"Content-Security-Policy",
                "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"},
    HeaderField{"X-Content-Type-Options", "nosniff"},
    HeaderField{"X-Frame-Options", "DENY"},
    HeaderField{"Referrer-Policy", "no-referrer"},
};

// The host part of a Host header or an Origin URL, without the port.
std::string_view host_only(std::string_view host) {
  if (auto scheme = host.find("://"); scheme != std::string_view::npos) host = host.substr(scheme + 3);
  if (!host.empty() && host[0] == '[') {
    auto end = host.find(']');
    return end == std::string_view::npos ? host : host.substr(0, end + 1);
  }
  return host.substr(0, host.find(':'));
}

bool is_api_path(std::string_view path) { return path.rfind("/api/", 0) == 0 || path == "/api"; }

AccessDecision refused(HttpResponse response) { return {AccessDecision::Outcome::Refused, std::move(response)}; }

// The Admin rules, in the order a refusal names them.
std::optional<HttpResponse> admin_refusal(const HttpRequest& request, const AccessContext& context) {
  // A browser sends Origin with every cross-site POST: a page elsewhere must
  // not drive the API with a token it cannot read anyway.
  std::string origin = request.header("origin");
  if (!origin.empty() && !host_allowed(origin, context)) return json_error(403, "cross-origin request refused");
  std::string auth = request.header("authorization");
  const std::string bearer = "Bearer ";
  if (auth.rfind(bearer, 0) != 0 || !tokens_equal(auth.substr(bearer.size()), context.token)) {
    HttpResponse r = json_error(401, "missing or wrong API token (Authorization: Bearer <token from the token file>)");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  // A header no HTML form or simple request can set: a cross-site request
  // carrying it needs a CORS preflight, which this API never grants.
  if (request.header("x-requested-with") != "bwalloc") {
    return json_error(403, "state-changing requests need the header X-Requested-With: bwalloc");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Access> access_for(std::string_view method, std::string_view path) {
  method = routed_method(method);
  for (const AccessRule& rule : kAccessRules) {
    if (rule.method == method && path.rfind(rule.path_prefix, 0) == 0) return rule.access;
  }
  return std::nullopt;
}

bool host_allowed(std::string_view host_or_origin, const AccessContext& context) {
  std::string_view host = host_only(host_or_origin);
  for (const auto& allowed : context.allowed_hosts) {
    if (host == allowed) return true;
  }
  return false;
}

AccessDecision decide_access(const HttpRequest& request, const std::string& path,
                             const std::vector<std::string_view>& route_methods, const AccessContext& context) {
  // A page on another site whose name an attacker pointed at this address
  // (DNS rebinding) still sends its own name as Host.
  if (!host_allowed(request.header("host"), context)) {
    return refused(
        json_error(421, "Host '" + request.header("host").substr(0, 100) + "' is not one this agent serves"));
  }
  const std::string_view method = routed_method(request.method);
  if (route_methods.empty()) {
    // Nothing under /api is ever a file, and files are only read.
    if (!is_api_path(path) && method == "GET") return {AccessDecision::Outcome::StaticFile, {}};
    return refused(json_error(404, "no route " + path));
  }
  std::string allow;
  bool answered = false;
  for (std::string_view m : route_methods) {
    allow += (allow.empty() ? "" : ", ") + std::string(m);
    if (m == "GET") allow += ", HEAD";
    answered = answered || m == method;
  }
  if (!answered) {
    HttpResponse r = json_error(405, request.method + " is not allowed on " + path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return refused(std::move(r));
  }
  const std::optional<Access> access = access_for(method, path);
  if (!access) return refused(json_error(403, request.method + " " + path + " is open to no one"));
  if (*access == Access::Admin) {
    if (auto refusal = admin_refusal(request, context)) return refused(std::move(*refusal));
  }
  return {AccessDecision::Outcome::Route, {}};
}

std::string_view routed_method(std::string_view method) { return method == "HEAD" ? "GET" : method; }

bool response_has_body(std::string_view method) { return method != "HEAD"; }

HttpResponse headers_too_large() {
  return json_error(431, "request headers too large (limit " + std::to_string(kHttpHeaderLimit / 1024) + " KiB)");
}

HttpResponse body_too_large() {
  return json_error(413, "request body too large (limit " + std::to_string(kHttpBodyLimit / 1024) + " KiB)");
}

std::span<const HeaderField> response_security_headers() { return kSecurityHeaders; }

}  // namespace bwalloc
