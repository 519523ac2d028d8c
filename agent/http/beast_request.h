// The one conversion from Beast's parsed request to the route handlers'
// HttpRequest, shared with the parser limits (access_policy.h) by the server
// and the HTTP fuzz harness, so the fuzzer exercises exactly what a socket
// would.
#pragma once

#include <boost/beast/http.hpp>

#include "agent/common/result.h"
#include "agent/http/access_policy.h"
#include "agent/http/http_message.h"

namespace bwalloc {

// The request for the routes, or why it breaks request_policy.h's rules
// (the server answers that with 400 and closes the connection). Header
// names are lower-cased (HTTP names are case-insensitive); the headers
// that must be single are checked to be, so no "last wins" remains.
[[nodiscard]] Result<HttpRequest> to_http_request(
    const boost::beast::http::request<boost::beast::http::string_body>& req);

}  // namespace bwalloc
