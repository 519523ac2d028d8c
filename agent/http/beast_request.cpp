// Beast request -> HttpRequest; see beast_request.h.
#include "agent/http/beast_request.h"

#include <algorithm>
#include <cctype>

#include "agent/http/request_policy.h"

namespace bwalloc {

Result<HttpRequest> to_http_request(const boost::beast::http::request<boost::beast::http::string_body>& req) {
  if (auto strict = check_request(req.base()); !strict) return strict.error();
  HttpRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  for (const auto& field : req) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    request.headers[name] = std::string(field.value());
  }
  request.body = req.body();
  return request;
}

}  // namespace bwalloc
