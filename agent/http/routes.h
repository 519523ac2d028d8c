// The API as pure functions: a parsed request and the agent in, a response
// out. No sockets here, so every route and every refusal is testable
// directly; http_server.cpp only moves bytes. Who may call which route is
// decided by access_policy.h before a handler runs.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api/agent_control.h"
#include "agent/http/access_policy.h"
#include "agent/http/device_list_cache.h"
#include "agent/http/http_message.h"
#include "agent/http/json_response.h"

namespace bwalloc {

class StaticFiles;

// What the routes need beside the agent, built once per server.
struct RouteContext : AccessContext {
  std::shared_ptr<const StaticFiles> static_files;  // the web root; null: none configured
  // /api/devices serialised once per snapshot, shared by every request.
  std::shared_ptr<DeviceListCache> device_list = std::make_shared<DeviceListCache>();
};

HttpResponse handle_request(const HttpRequest& request, AgentControl& agent, const RouteContext& context);

struct RouteEndpoint {
  std::string_view method;
  std::string_view path;  // exact, or with prefix everything below it ("/api/devices/")
  bool prefix = false;
};

// Every method and path the route table answers, in table order.
std::vector<RouteEndpoint> route_endpoints();

// The methods the route table answers at a decoded path (empty: no route).
std::vector<std::string_view> route_methods(const std::string& path);

}  // namespace bwalloc
