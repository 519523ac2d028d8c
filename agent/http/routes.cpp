// Route table and handlers; see routes.h.
#include "agent/http/routes.h"

#include <boost/json.hpp>
#include <functional>
#include <sstream>

#include "agent/http/api_token.h"
#include "agent/http/device_list_cache.h"
#include "agent/http/json_views.h"
#include "agent/http/static_files.h"

namespace bwalloc {

namespace json = boost::json;

namespace {
HttpResponse json_ok(json::object body, int status = 200) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(body);
  return r;
}

std::string decode_component(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

struct Target {
  std::string path;
  std::map<std::string, std::string> query;
};

Target split_target(const std::string& target) {
  Target t;
  auto q = target.find('?');
  t.path = decode_component(target.substr(0, q));
  if (q == std::string::npos) return t;
  std::istringstream params(target.substr(q + 1));
  std::string pair;
  while (std::getline(params, pair, '&')) {
    auto eq = pair.find('=');
    t.query[decode_component(pair.substr(0, eq))] = eq == std::string::npos ? "" : decode_component(pair.substr(eq + 1));
  }
  return t;
}

// The host part of a Host header or an Origin URL, without the port.
std::string host_only(std::string host) {
  if (auto scheme = host.find("://"); scheme != std::string::npos) host = host.substr(scheme + 3);
  if (!host.empty() && host[0] == '[') {
    auto end = host.find(']');
    return end == std::string::npos ? host : host.substr(0, end + 1);
  }
  auto colon = host.find(':');
  return colon == std::string::npos ? host : host.substr(0, colon);
}

bool host_allowed(const std::string& host, const RouteContext& context) {
  std::string h = host_only(host);
  for (const auto& allowed : context.allowed_hosts) {
    if (h == allowed) return true;
  }
  return false;
}

Result<json::object> body_object(const HttpRequest& request) {
  boost::system::error_code ec;
  json::value v = json::parse(request.body, ec);
  if (ec) return Error{"the body is not JSON: " + ec.message()};
  if (!v.is_object()) return Error{"the body must be a JSON object"};
  return v.as_object();
}

Result<IpAddress> ip_field(const json::object& body) {
  auto it = body.find("ip");
  if (it == body.end() || !it->value().is_string()) return Error{"'ip' is required and must be a string"};
  return IpAddress::parse(std::string(it->value().as_string()));
}

Result<std::optional<Priority>> priority_field(const json::value& v) {
  if (v.is_int64()) {
    auto p = parse_priority(std::to_string(v.as_int64()));
    if (p) return std::optional<Priority>(*p);
  } else if (v.is_string()) {
    std::string s(v.as_string());
    if (s == "auto" || s == "Auto") return std::optional<Priority>();
    if (auto p = parse_priority(s)) return std::optional<Priority>(*p);
  }
  return Error{"unknown priority (accepted: \"High\", \"Normal\", \"Low\", \"Blocked\", 0-3, or \"auto\")"};
}

int64_t time_param(const std::map<std::string, std::string>& q, const char* name, int64_t fallback, bool& bad) {
  auto it = q.find(name);
  if (it == q.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= 0) return v;
  } catch (...) {
  }
  bad = true;
  return fallback;
}

using Handler = std::function<HttpResponse(const HttpRequest&, const Target&, AgentControl&)>;

struct Route {
  std::string method;
  std::string path;  // exact, or a prefix ending in '/' when prefix is true
  bool mutating;
  Handler handler;
  bool prefix = false;
};

HttpResponse devices_route(AgentControl& agent) {
  static DeviceListCache cache;
  HttpResponse r;
  r.body = *cache.body_for(agent.snapshot());
  return r;
}

HttpResponse command_result(const Result<void>& r, const std::string& message) {
  if (!r) return json_error(400, r.message());
  return json_ok({{"ok", true}, {"message", message}});
}

std::vector<Route> routes() {
  std::vector<Route> r;
  r.push_back({"GET", "/api/devices", false, [](auto&, auto&, AgentControl& a) { return devices_route(a); }});
  r.push_back({"POST", "/api/discover", true, [](auto&, auto&, AgentControl& a) {
                 auto found = a.discover("admin");
                 if (!found) return json_error(503, found.message());
                 json::array list;
                 for (const auto& d : *found) list.push_back(device_json(d));
                 return json_ok({{"ok", true}, {"devices", list}});
               }});
  r.push_back({"GET", "/api/usage", false, [](auto&, auto&, AgentControl& a) {
                 auto rows = a.recent_usage(200);
                 if (!rows) return json_error(503, rows.message());
                 json::array list;
                 for (const auto& u : *rows) list.push_back(usage_json(u));
                 return json_ok({{"usage", list}});
               }});
  r.push_back({"POST", "/api/set_priority", true, [](const HttpRequest& req, auto&, AgentControl& a) {
                 auto body = body_object(req);
                 if (!body) return json_error(400, body.message());
                 auto ip = ip_field(*body);
                 if (!ip) return json_error(400, ip.message());
                 auto it = body->find("priority");
                 if (it == body->end()) return json_error(400, "'priority' is required");
                 auto p = priority_field(it->value());
                 if (!p) return json_error(400, p.message());
                 std::string what = *p ? std::string(priority_name(**p)) : "auto";
                 return command_result(a.set_priority(*ip, *p, "admin"), ip->to_string() + " set to " + what);
               }});
  r.push_back({"GET", "/api/events", false, [](auto&, auto&, AgentControl& a) {
                 auto rows = a.recent_events(50);
                 if (!rows) return json_error(503, rows.message());
                 json::array list;
                 for (const auto& e : *rows) list.push_back(event_json(e));
                 return json_ok({{"events", list}});
               }});
  r.push_back({"GET", "/api/history", false, [](auto&, const Target& t, AgentControl& a) {
                 auto ip_it = t.query.find("ip");
                 if (ip_it == t.query.end() || ip_it->second.empty()) return json_error(400, "'ip' query parameter is required");
                 auto ip = IpAddress::parse(ip_it->second);
                 if (!ip) return json_error(400, ip.message());
                 bool bad = false;
                 int64_t now = a.snapshot()->ts_ms;
                 int64_t to = time_param(t.query, "to", now + 1, bad);
                 int64_t from = time_param(t.query, "from", now - 3'600'000, bad);
                 if (bad || from > to) return json_error(400, "'from' and 'to' must be milliseconds since the epoch, from <= to");
                 HistoryResolution res = HistoryResolution::Raw;
                 if (auto it = t.query.find("resolution"); it != t.query.end()) {
                   if (it->second == "minute") res = HistoryResolution::Minute;
                   else if (it->second == "hour") res = HistoryResolution::Hour;
                   else if (it->second == "day") res = HistoryResolution::Day;
                   else if (it->second != "raw") return json_error(400, "resolution must be raw, minute, hour or day");
                 }
                 auto rows = a.history(*ip, from, to, res);
                 if (!rows) return json_error(503, rows.message());
                 json::array list;
                 for (const auto& h : *rows) list.push_back(history_json(h));
                 return json_ok({{"ok", true}, {"history", list}});
               }});
  r.push_back({"GET", "/api/metrics", false, [](auto&, auto&, AgentControl& a) {
                 return json_ok({{"metrics", metrics_json(a.snapshot()->metrics)}});
               }});
  r.push_back({"POST", "/api/block", true, [](const HttpRequest& req, auto&, AgentControl& a) {
                 auto body = body_object(req);
                 if (!body) return json_error(400, body.message());
                 auto ip = ip_field(*body);
                 if (!ip) return json_error(400, ip.message());
                 std::string reason;
                 if (auto it = body->find("reason"); it != body->end()) {
                   if (!it->value().is_string()) return json_error(400, "'reason' must be a string");
                   reason = std::string(it->value().as_string());  // the agent caps it
                 }
                 return command_result(a.block(*ip, reason, "admin"), ip->to_string() + " blocked");
               }});
  r.push_back({"POST", "/api/unblock", true, [](const HttpRequest& req, auto&, AgentControl& a) {
                 auto body = body_object(req);
                 if (!body) return json_error(400, body.message());
                 auto ip = ip_field(*body);
                 if (!ip) return json_error(400, ip.message());
                 return command_result(a.unblock(*ip, "admin"), ip->to_string() + " unblocked");
               }});
  r.push_back({"GET", "/api/blocked", false, [](auto&, auto&, AgentControl& a) {
                 auto rows = a.blocked();
                 if (!rows) return json_error(503, rows.message());
                 json::array list;
                 for (const auto& b : *rows) list.push_back(blocked_json(b));
                 return json_ok({{"blocked", list}});
               }});
  r.push_back({"GET", "/api/auto_toggle", false, [](auto&, auto&, AgentControl& a) {
                 return json_ok({{"ok", true}, {"auto", a.snapshot()->auto_mode}});
               }});
  r.push_back({"POST", "/api/auto_toggle", true, [](const HttpRequest& req, auto&, AgentControl& a) {
                 auto body = body_object(req);
                 if (!body) return json_error(400, body.message());
                 auto it = body->find("auto");
                 if (it == body->end() || !it->value().is_bool()) return json_error(400, "'auto' must be true or false");
                 auto set = a.set_auto_mode(it->value().as_bool(), "admin");
                 if (!set) return json_error(400, set.message());
                 return json_ok({{"ok", true}, {"auto", it->value().as_bool()}});
               }});
  r.push_back({"GET", "/api/config", false, [](auto&, auto&, AgentControl& a) {
                 json::array list;
                 for (const auto& c : a.config()) list.push_back(json::object{{"key", c.key}, {"value", c.value}, {"runtime", c.runtime}});
                 return json_ok({{"ok", true}, {"config", list}});
               }});
  r.push_back({"POST", "/api/config", true, [](const HttpRequest& req, auto&, AgentControl& a) {
                 auto body = body_object(req);
                 if (!body) return json_error(400, body.message());
                 auto it = body->find("changes");
                 if (it == body->end() || !it->value().is_object()) return json_error(400, "'changes' must be an object of \"section.key\": value");
                 std::vector<std::pair<std::string, std::string>> changes;
                 for (const auto& [key, value] : it->value().as_object()) {
                   // Values arrive as JSON; TOML reads JSON scalars and arrays the same way.
                   changes.emplace_back(std::string(key), json::serialize(value));
                 }
                 auto updated = a.update_config(changes, "admin");
                 if (!updated) return json_error(400, updated.message());
                 return json_ok({{"ok", true}});
               }});
  r.push_back({"GET", "/health", false, [](auto&, auto&, AgentControl& a) {
                 auto snap = a.snapshot();
                 json::object h = health_json(*snap);
                 bool ok = h["ok"].as_bool();
                 return json_ok(h, ok ? 200 : 503);
               }});
  r.push_back({"GET", "/metrics", false, [](auto&, auto&, AgentControl& a) {
                 HttpResponse resp;
                 resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
                 resp.body = prometheus_text(*a.snapshot());
                 return resp;
               }});
  r.push_back({"GET", "/api/stream", false, [](auto&, auto&, AgentControl&) {
                 HttpResponse resp;
                 resp.stream = true;
                 resp.content_type = "text/event-stream";
                 return resp;
               }});
  // /api/devices/{ip} and /api/devices/{ip}/priority
  r.push_back({"GET", "/api/devices/", false, [](auto&, const Target& t, AgentControl& a) {
                 std::string rest = t.path.substr(std::string("/api/devices/").size());
                 auto ip = IpAddress::parse(rest);
                 if (!ip) return json_error(400, ip.message());
                 for (const auto& d : a.snapshot()->devices) {
                   if (d.ip == *ip) return json_ok({{"ok", true}, {"device", device_json(d)}});
                 }
                 return json_error(404, "no device " + ip->to_string());
               }, true});
  auto device_priority = [](const HttpRequest& req, const Target& t, AgentControl& a) {
    std::string rest = t.path.substr(std::string("/api/devices/").size());
    auto slash = rest.find('/');
    if (slash == std::string::npos || rest.substr(slash) != "/priority") return json_error(404, "no such route");
    auto ip = IpAddress::parse(rest.substr(0, slash));
    if (!ip) return json_error(400, ip.message());
    std::optional<Priority> priority;
    if (req.method == "POST") {
      auto body = body_object(req);
      if (!body) return json_error(400, body.message());
      auto it = body->find("priority");
      if (it == body->end()) return json_error(400, "'priority' is required");
      auto p = priority_field(it->value());
      if (!p) return json_error(400, p.message());
      priority = *p;
    }
    return command_result(a.set_priority(*ip, priority, "admin"),
                          ip->to_string() + (priority ? " set to " + std::string(priority_name(*priority)) : " released to auto"));
  };
  r.push_back({"POST", "/api/devices/", true, device_priority, true});
  r.push_back({"DELETE", "/api/devices/", true, device_priority, true});
  return r;
}

bool path_matches(const Route& route, const std::string& path) {
  if (route.prefix) return path.size() > route.path.size() && path.rfind(route.path, 0) == 0;
  return path == route.path;
}
}  // namespace

// Error messages quote what the client sent (a Host, a path, an address),
// and Boost.JSON writes string bytes as they are: anything that is not
// valid UTF-8 becomes U+FFFD, or the body would not be JSON at all.
static std::string valid_utf8(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    for (size_t k = 1; ok && k < len; ++k) {
      const auto cc = static_cast<unsigned char>(s[i + k]);
      ok = (cc & 0xc0) == 0x80;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // No overlong forms, no surrogates, nothing past U+10FFFF.
    if (ok && ((len == 2 && cp < 0x80) || (len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
               (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))) {
      ok = false;
    }
    if (ok) {
      out.append(s, i, len);
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

HttpResponse json_error(int status, const std::string& message) {
  HttpResponse r;
  r.status = status;
  r.body = json::serialize(json::object{{"ok", false}, {"error", valid_utf8(message)}});
  return r;
}

HttpResponse handle_request(const HttpRequest& request, AgentControl& agent, const RouteContext& context) {
  if (!host_allowed(request.header("host"), context)) {
    return json_error(421, "Host '" + request.header("host").substr(0, 100) + "' is not one this agent serves");
  }
  static const std::vector<Route> table = routes();
  Target target = split_target(request.target);
  std::vector<const Route*> matching;
  for (const auto& route : table) {
    if (path_matches(route, target.path)) matching.push_back(&route);
  }
  if (matching.empty()) {
    bool api = target.path.rfind("/api/", 0) == 0 || target.path == "/api";
    if (!api && (request.method == "GET" || request.method == "HEAD")) {
      if (!context.static_files) return json_error(404, "no web root configured");
      return context.static_files->serve(request, target.path);
    }
    return json_error(404, "no route " + target.path);
  }
  const Route* route = nullptr;
  std::string allow;
  for (const Route* m : matching) {
    allow += (allow.empty() ? "" : ", ") + m->method;
    if (m->method == "GET") allow += ", HEAD";
    // HEAD is GET without the body (RFC 9110 9.3.2); the server drops it.
    if (m->method == request.method || (request.method == "HEAD" && m->method == "GET")) route = m;
  }
  if (!route) {
    HttpResponse r = json_error(405, request.method + " is not allowed on " + target.path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (route->mutating) {
    std::string origin = request.header("origin");
    if (!origin.empty() && !host_allowed(origin, context)) return json_error(403, "cross-origin request refused");
    std::string auth = request.header("authorization");
    const std::string bearer = "Bearer ";
    if (auth.rfind(bearer, 0) != 0 || !tokens_equal(auth.substr(bearer.size()), context.token)) {
      HttpResponse r = json_error(401, "missing or wrong API token (Authorization: Bearer <token from the token file>)");
      r.headers.emplace_back("WWW-Authenticate", "Bearer");
      return r;
    }
    if (request.header("x-requested-with") != "bwalloc") {
      return json_error(403, "state-changing requests need the header X-Requested-With: bwalloc");
    }
  }
  return route->handler(request, target, agent);
}

}  // namespace bwalloc
