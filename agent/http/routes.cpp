// The route table: one pure handler per method and path; see routes.h.
#include "agent/http/routes.h"

#include <array>
#include <boost/json.hpp>

#include "agent/http/json_views.h"
#include "agent/http/request_fields.h"
#include "agent/http/request_target.h"
#include "agent/http/static_files.h"

namespace bwalloc {

namespace json = boost::json;

namespace {

// Everything a handler may read: the request, its decoded target, the agent.
struct RouteCall {
  const HttpRequest& request;
  const RequestTarget& target;
  AgentControl& agent;
  const RouteContext& context;
};

using Handler = HttpResponse (*)(const RouteCall&);

struct Route {
  RouteEndpoint endpoint;
  Handler handler;
};

constexpr std::string_view kDevicePrefix = "/api/devices/";

template <class Rows, class View>
json::array array_of(const Rows& rows, View view) {
  json::array list;
  for (const auto& row : rows) list.push_back(view(row));
  return list;
}

HttpResponse command_result(const Result<void>& r, const std::string& message) {
  if (!r) return json_error(400, r.message());
  return json_ok({{"ok", true}, {"message", message}});
}

HttpResponse get_devices(const RouteCall& c) {
  HttpResponse r;
  r.body = *c.context.device_list->body_for(c.agent.snapshot());
  return r;
}

HttpResponse post_discover(const RouteCall& c) {
  auto found = c.agent.discover("admin");
  if (!found) return json_error(503, found.message());
  return json_ok({{"ok", true}, {"devices", array_of(*found, device_json)}});
}

HttpResponse get_usage(const RouteCall& c) {
  auto rows = c.agent.recent_usage(200);
  if (!rows) return json_error(503, rows.message());
  return json_ok({{"usage", array_of(*rows, usage_json)}});
}

HttpResponse post_set_priority(const RouteCall& c) {
  auto body = body_object(c.request);
  if (!body) return json_error(400, body.message());
  auto ip = ip_field(*body);
  if (!ip) return json_error(400, ip.message());
  auto p = priority_field(*body);
  if (!p) return json_error(400, p.message());
  std::string what = *p ? std::string(priority_name(**p)) : "auto";
  return command_result(c.agent.set_priority(*ip, *p, "admin"), ip->to_string() + " set to " + what);
}

HttpResponse get_events(const RouteCall& c) {
  auto rows = c.agent.recent_events(50);
  if (!rows) return json_error(503, rows.message());
  return json_ok({{"events", array_of(*rows, event_json)}});
}

// The last hour unless `from` and `to` say otherwise.
HttpResponse get_history(const RouteCall& c) {
  const auto& query = c.target.query;
  auto ip_it = query.find("ip");
  if (ip_it == query.end() || ip_it->second.empty()) return json_error(400, "'ip' query parameter is required");
  auto ip = IpAddress::parse(ip_it->second);
  if (!ip) return json_error(400, ip.message());
  const int64_t now = c.agent.snapshot()->ts_ms;
  auto to = millis_param(query, "to", now + 1);
  auto from = millis_param(query, "from", now - 3'600'000);
  if (!to || !from || *from > *to) {
    return json_error(400, "'from' and 'to' must be milliseconds since the epoch, from <= to");
  }
  auto resolution = resolution_param(query);
  if (!resolution) return json_error(400, resolution.message());
  auto rows = c.agent.history(*ip, *from, *to, *resolution);
  if (!rows) return json_error(503, rows.message());
  return json_ok({{"ok", true}, {"history", array_of(*rows, history_json)}});
}

HttpResponse get_metrics(const RouteCall& c) {
  return json_ok({{"metrics", metrics_json(c.agent.snapshot()->metrics)}});
}

HttpResponse post_block(const RouteCall& c) {
  auto body = body_object(c.request);
  if (!body) return json_error(400, body.message());
  auto ip = ip_field(*body);
  if (!ip) return json_error(400, ip.message());
  std::string reason;
  if (auto it = body->find("reason"); it != body->end()) {
    if (!it->value().is_string()) return json_error(400, "'reason' must be a string");
    reason = std::string(it->value().as_string());  // the agent caps it
  }
  return command_result(c.agent.block(*ip, reason, "admin"), ip->to_string() + " blocked");
}

HttpResponse post_unblock(const RouteCall& c) {
  auto body = body_object(c.request);
  if (!body) return json_error(400, body.message());
  auto ip = ip_field(*body);
  if (!ip) return json_error(400, ip.message());
  return command_result(c.agent.unblock(*ip, "admin"), ip->to_string() + " unblocked");
}

HttpResponse get_blocked(const RouteCall& c) {
  auto rows = c.agent.blocked();
  if (!rows) return json_error(503, rows.message());
  return json_ok({{"blocked", array_of(*rows, blocked_json)}});
}

HttpResponse get_auto_toggle(const RouteCall& c) {
  return json_ok({{"ok", true}, {"auto", c.agent.snapshot()->auto_mode}});
}

HttpResponse post_auto_toggle(const RouteCall& c) {
  auto body = body_object(c.request);
  if (!body) return json_error(400, body.message());
  auto it = body->find("auto");
  if (it == body->end() || !it->value().is_bool()) return json_error(400, "'auto' must be true or false");
  auto set = c.agent.set_auto_mode(it->value().as_bool(), "admin");
  if (!set) return json_error(400, set.message());
  return json_ok({{"ok", true}, {"auto", it->value().as_bool()}});
}

HttpResponse get_config(const RouteCall& c) {
  auto entry = [](const ConfigEntry& e) {
    return json::object{{"key", e.key}, {"value", e.value}, {"runtime", e.runtime}};
  };
  return json_ok({{"ok", true}, {"config", array_of(c.agent.config(), entry)}});
}

HttpResponse post_config(const RouteCall& c) {
  auto body = body_object(c.request);
  if (!body) return json_error(400, body.message());
  auto it = body->find("changes");
  if (it == body->end() || !it->value().is_object()) {
    return json_error(400, "'changes' must be an object of \"section.key\": value");
  }
  std::vector<std::pair<std::string, std::string>> changes;
  for (const auto& [key, value] : it->value().as_object()) {
    // Values arrive as JSON; TOML reads JSON scalars and arrays the same way.
    changes.emplace_back(std::string(key), json::serialize(value));
  }
  auto updated = c.agent.update_config(changes, "admin");
  if (!updated) return json_error(400, updated.message());
  return json_ok({{"ok", true}});
}

HttpResponse get_health(const RouteCall& c) {
  json::object h = health_json(*c.agent.snapshot());
  const bool ok = h["ok"].as_bool();
  return json_ok(h, ok ? 200 : 503);
}

HttpResponse get_prometheus(const RouteCall& c) {
  HttpResponse resp;
  resp.content_type = "text/plain; version=0.0.4; charset=utf-8";
  resp.body = prometheus_text(*c.agent.snapshot());
  return resp;
}

// The server turns this into a Server-Sent Events stream.
HttpResponse get_stream(const RouteCall&) {
  HttpResponse resp;
  resp.stream = true;
  resp.content_type = "text/event-stream";
  return resp;
}

// /api/devices/{ip}
HttpResponse get_device(const RouteCall& c) {
  auto ip = IpAddress::parse(c.target.path.substr(kDevicePrefix.size()));
  if (!ip) return json_error(400, ip.message());
  for (const auto& d : c.agent.snapshot()->devices) {
    if (d.ip == *ip) return json_ok({{"ok", true}, {"device", device_json(d)}});
  }
  return json_error(404, "no device " + ip->to_string());
}

// POST /api/devices/{ip}/priority sets a manual priority, DELETE releases it.
HttpResponse set_device_priority(const RouteCall& c) {
  std::string rest = c.target.path.substr(kDevicePrefix.size());
  auto slash = rest.find('/');
  if (slash == std::string::npos || rest.substr(slash) != "/priority") return json_error(404, "no such route");
  auto ip = IpAddress::parse(rest.substr(0, slash));
  if (!ip) return json_error(400, ip.message());
  std::optional<Priority> priority;
  if (c.request.method == "POST") {
    auto body = body_object(c.request);
    if (!body) return json_error(400, body.message());
    auto p = priority_field(*body);
    if (!p) return json_error(400, p.message());
    priority = *p;
  }
  return command_result(
      c.agent.set_priority(*ip, priority, "admin"),
      ip->to_string() + (priority ? " set to " + std::string(priority_name(*priority)) : " released to auto"));
}

constexpr std::array kRoutes = {
    Route{{"GET", "/api/devices"}, get_devices},
    Route{{"POST", "/api/discover"}, post_discover},
    Route{{"GET", "/api/usage"}, get_usage},
    Route{{"POST", "/api/set_priority"}, post_set_priority},
    Route{{"GET", "/api/events"}, get_events},
    Route{{"GET", "/api/history"}, get_history},
    Route{{"GET", "/api/metrics"}, get_metrics},
    Route{{"POST", "/api/block"}, post_block},
    Route{{"POST", "/api/unblock"}, post_unblock},
    Route{{"GET", "/api/blocked"}, get_blocked},
    Route{{"GET", "/api/auto_toggle"}, get_auto_toggle},
    Route{{"POST", "/api/auto_toggle"}, post_auto_toggle},
    Route{{"GET", "/api/config"}, get_config},
    Route{{"POST", "/api/config"}, post_config},
    Route{{"GET", "/health"}, get_health},
    Route{{"GET", "/metrics"}, get_prometheus},
    Route{{"GET", "/api/stream"}, get_stream},
    Route{{"GET", kDevicePrefix, true}, get_device},
    Route{{"POST", kDevicePrefix, true}, set_device_priority},
    Route{{"DELETE", kDevicePrefix, true}, set_device_priority},
};

bool path_matches(const RouteEndpoint& endpoint, std::string_view path) {
  if (endpoint.prefix) return path.size() > endpoint.path.size() && path.rfind(endpoint.path, 0) == 0;
  return path == endpoint.path;
}

}  // namespace

std::vector<RouteEndpoint> route_endpoints() {
  std::vector<RouteEndpoint> all;
  for (const Route& route : kRoutes) all.push_back(route.endpoint);
  return all;
}

std::vector<std::string_view> route_methods(const std::string& path) {
  std::vector<std::string_view> methods;
  for (const Route& route : kRoutes) {
    if (path_matches(route.endpoint, path)) methods.push_back(route.endpoint.method);
  }
  return methods;
}

HttpResponse handle_request(const HttpRequest& request, AgentControl& agent, const RouteContext& context) {
  const RequestTarget target = parse_target(request.target);
  const AccessDecision decision = decide_access(request, target.path, route_methods(target.path), context);
  switch (decision.outcome) {
    case AccessDecision::Outcome::Refused:
      return decision.refusal;
    case AccessDecision::Outcome::StaticFile:
      if (!context.static_files) return json_error(404, "no web root configured");
      return context.static_files->serve(request, target.path);
    case AccessDecision::Outcome::Route:
      break;
  }
  const std::string_view method = routed_method(request.method);
  for (const Route& route : kRoutes) {
    if (route.endpoint.method == method && path_matches(route.endpoint, target.path)) {
      return route.handler(RouteCall{request, target, agent, context});
    }
  }
  return json_error(404, "no route " + target.path);  // unreachable: the policy saw the route's methods
}

}  // namespace bwalloc
