// The typed values routes read from a request: the JSON body as an object,
// its "ip" and "priority" members, and the history query's time range and
// resolution. Each returns the value or an error message for a 400 body
// that tells the client what to send instead. Pure.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "agent/api/agent_control.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"
#include "agent/common/result.h"
#include "agent/http/http_message.h"

namespace bwalloc {

using QueryParams = std::map<std::string, std::string>;

// The body parsed as JSON; an error when it is not JSON or not an object.
[[nodiscard]] Result<boost::json::object> body_object(const HttpRequest& request);

// The required string member "ip" as an address.
[[nodiscard]] Result<IpAddress> ip_field(const boost::json::object& body);

// A priority as a name ("High", ...), its number (0-3) or "auto"/"Auto"
// (nullopt: back to the allocator).
[[nodiscard]] Result<std::optional<Priority>> priority_value(const boost::json::value& value);

// The required member "priority" of `body`, read as priority_value does.
[[nodiscard]] Result<std::optional<Priority>> priority_field(const boost::json::object& body);

// The query parameter `name` as milliseconds since the epoch (a decimal
// number >= 0), `fallback` when it is absent or empty.
[[nodiscard]] Result<int64_t> millis_param(const QueryParams& query, const char* name, int64_t fallback);

// The "resolution" parameter (raw, minute, hour or day); raw when absent.
[[nodiscard]] Result<HistoryResolution> resolution_param(const QueryParams& query);

}  // namespace bwalloc
