// The two shapes every JSON answer of the API takes: a route's object with
// its status, and {"ok":false,"error":message}. Error messages quote what
// the client sent (a Host, a path, an address) and Boost.JSON writes string
// bytes as they are, so the message is repaired to valid UTF-8 first:
// otherwise one bad byte would make the body undecodable.
#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "agent/http/http_message.h"

namespace bwalloc {

// `body` serialised, with the status (200 unless told).
HttpResponse json_ok(const boost::json::object& body, int status = 200);

// {"ok":false,"error":message} with the status.
HttpResponse json_error(int status, const std::string& message);

}  // namespace bwalloc
