// A request target split into its decoded path and query parameters, the
// form every route and the access policy match on. Pure.
#pragma once

#include <map>
#include <string>

namespace bwalloc {

struct RequestTarget {
  std::string path;                          // percent-decoded
  std::map<std::string, std::string> query;  // names and values decoded; a repeated name keeps its last value
};

// "%xx" becomes its byte and '+' a space; a '%' not followed by two hex
// digits stays as it is. Decoding happens once, here: the static-file route
// checks the decoded path for "..", so an encoded "%2e%2e" cannot slip past.
std::string percent_decode(const std::string& text);

// Path and query of an origin-form target ("/api/history?ip=...&from=...").
// A parameter without '=' has an empty value.
RequestTarget parse_target(const std::string& target);

}  // namespace bwalloc
