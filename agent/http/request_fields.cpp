// Request fields; see request_fields.h.
#include "agent/http/request_fields.h"

#include <boost/json.hpp>

namespace bwalloc {

namespace json = boost::json;

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

Result<std::optional<Priority>> priority_value(const json::value& v) {
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

Result<std::optional<Priority>> priority_field(const json::object& body) {
  auto it = body.find("priority");
  if (it == body.end()) return Error{"'priority' is required"};
  return priority_value(it->value());
}

Result<int64_t> millis_param(const QueryParams& query, const char* name, int64_t fallback) {
  auto it = query.find(name);
  if (it == query.end() || it->second.empty()) return fallback;
  try {
    size_t used = 0;
    long long v = std::stoll(it->second, &used);
    if (used == it->second.size() && v >= 0) return static_cast<int64_t>(v);
  } catch (...) {
  }
  return Error{"'" + std::string(name) + "' must be milliseconds since the epoch"};
}

Result<HistoryResolution> resolution_param(const QueryParams& query) {
  auto it = query.find("resolution");
  if (it == query.end() || it->second == "raw") return HistoryResolution::Raw;
  if (it->second == "minute") return HistoryResolution::Minute;
  if (it->second == "hour") return HistoryResolution::Hour;
  if (it->second == "day") return HistoryResolution::Day;
  return Error{"resolution must be raw, minute, hour or day"};
}

}  // namespace bwalloc
