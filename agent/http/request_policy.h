// The strict rules a request's framing and identity headers must meet before
// any route sees it. Beast's parser is lenient where RFC 9110/9112 allow a
// recipient to be (repeated Content-Length with one value, unknown transfer
// codings, any Host text); a router's admin API has no old clients to be
// kind to, and every leniency is a smuggling or Host-confusion path. So a
// request breaking any rule here gets 400 and its connection is closed.
#pragma once

#include <boost/beast/http/message.hpp>

#include "agent/common/result.h"

namespace bwalloc {

// Ok, or an error naming the rule the request broke (for the 400 body).
// Rules: the target is origin-form ("/..."); Host, Origin, Content-Length,
// Content-Type, Authorization, X-Requested-With and Transfer-Encoding appear
// at most once; HTTP/1.1 has a Host; Host is host[:port] and Origin is
// scheme://host[:port] or "null"; Content-Length is one decimal number;
// Transfer-Encoding is exactly "chunked" and never with Content-Length.
[[nodiscard]] Result<void> check_request(const boost::beast::http::request_header<>& request);

// Host header syntax alone: a DNS name, IPv4 address or [IPv6] address, and
// an optional port of 1-5 digits up to 65535. No userinfo, path or spaces.
[[nodiscard]] bool valid_host_header(std::string_view host);

}  // namespace bwalloc
