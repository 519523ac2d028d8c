// The API as pure functions: a parsed request and the agent in, a response
// out. No sockets here, so every route and every refusal is testable
// directly; http_server.cpp only moves bytes.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/api/agent_control.h"

namespace bwalloc {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query
  std::map<std::string, std::string> headers;  // names lower-case
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  bool stream = false;  // /api/stream: the server switches to Server-Sent Events
  // Static files: the body is this shared, immutable text instead of `body`,
  // sent without a copy per request (static_files.h).
  std::shared_ptr<const std::string> shared_body;
};

class StaticFiles;

struct RouteContext {
  std::string token;
  std::vector<std::string> allowed_hosts;  // host names accepted in Host and Origin
  std::shared_ptr<const StaticFiles> static_files;  // the web root; null: none configured
};

HttpResponse handle_request(const HttpRequest& request, AgentControl& agent, const RouteContext& context);

// {"ok":false,"error":message} with the status.
HttpResponse json_error(int status, const std::string& message);

}  // namespace bwalloc
