// The request and response the route handlers see: plain values with no
// socket or Beast type in them, so every handler and every access decision
// is a pure function that tests call directly. beast_request.h builds an
// HttpRequest from the wire; http_server.cpp writes an HttpResponse back.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace bwalloc {

struct HttpRequest {
  std::string method;                          // "GET", "POST", ...
  std::string target;                          // path and query, still percent-encoded
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

}  // namespace bwalloc
