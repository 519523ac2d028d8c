// Strict request header rules; see request_policy.h.
#include "agent/http/request_policy.h"

#include <algorithm>
#include <array>
#include <boost/beast/core/string.hpp>
#include <cctype>
#include <string>

namespace bwalloc {

namespace http = boost::beast::http;

namespace {

// Headers whose meaning is one value. With two copies, the agent and any
// proxy in front of it may each believe a different one ("last wins" here,
// "first wins" there), which is how Host checks and body framing are fooled.
constexpr std::array<std::string_view, 7> kSingletonHeaders = {
    "host", "origin", "content-length", "content-type", "authorization", "x-requested-with", "transfer-encoding"};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), is_digit)) return false;
  return std::stoul(std::string(port)) <= 65535;
}

// A DNS name or IPv4 address: letters, digits, '.', '-' and '_' (names
// seen on real LANs carry underscores). Anything else (userinfo '@', '/',
// '%', spaces) has no place in the Host of an admin API.
bool valid_reg_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
  });
}

bool valid_ipv6_literal(std::string_view inner) {
  return inner.find(':') != std::string_view::npos && std::all_of(inner.begin(), inner.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
         });
}

// The scheme of an Origin: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ).
bool valid_scheme(std::string_view scheme) {
  if (scheme.empty() || !std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
  return std::all_of(scheme.begin(), scheme.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

bool valid_origin(std::string_view origin) {
  if (origin == "null") return true;  // what browsers send from sandboxed or file: pages
  auto sep = origin.find("://");
  return sep != std::string_view::npos && valid_scheme(origin.substr(0, sep)) &&
         valid_host_header(origin.substr(sep + 3));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Quoted back in error bodies: short, and only printable ASCII.
std::string quoted(std::string_view value) {
  std::string out;
  for (char c : value.substr(0, 100)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return "'" + out + "'";
}

}  // namespace

bool valid_host_header(std::string_view host) {
  std::string_view name = host;
  std::string_view rest;
  if (!host.empty() && host.front() == '[') {
    auto close = host.find(']');
    if (close == std::string_view::npos || !valid_ipv6_literal(host.substr(1, close - 1))) return false;
    name = host.substr(0, close + 1);
    rest = host.substr(close + 1);
  } else {
    auto colon = host.find(':');
    if (colon != std::string_view::npos) {
      name = host.substr(0, colon);
      rest = host.substr(colon);
    }
    if (!valid_reg_name(name)) return false;
  }
  return rest.empty() || (rest.front() == ':' && valid_port(rest.substr(1)));
}

Result<void> check_request(const http::request_header<>& request) {
  const std::string_view target = request.target();
  if (target.empty() || target.front() != '/') {
    return Error{"request target " + quoted(target) + " must be a path starting with '/'"};
  }
  for (std::string_view name : kSingletonHeaders) {
    auto [first, last] = request.equal_range(name);
    if (first != last && std::next(first) != last) {
      return Error{"header '" + std::string(name) + "' appears more than once; send it once"};
    }
  }
  auto host = request.find(http::field::host);
  if (host == request.end()) {
    if (request.version() >= 11) return Error{"HTTP/1.1 requests need a Host header"};
  } else if (!valid_host_header(host->value())) {
    return Error{"Host " + quoted(host->value()) + " is not host[:port]"};
  }
  if (auto origin = request.find(http::field::origin); origin != request.end() && !valid_origin(origin->value())) {
    return Error{"Origin " + quoted(origin->value()) + " is not scheme://host[:port]"};
  }
  auto length = request.find(http::field::content_length);
  if (length != request.end()) {
    std::string_view v = trim(length->value());
    if (v.empty() || v.size() > 19 || !std::all_of(v.begin(), v.end(), is_digit)) {
      return Error{"Content-Length " + quoted(length->value()) + " must be one decimal number"};
    }
  }
  if (auto coding = request.find(http::field::transfer_encoding); coding != request.end()) {
    if (!boost::beast::iequals(trim(coding->value()), "chunked")) {
      return Error{"Transfer-Encoding " + quoted(coding->value()) + " is not supported (only 'chunked')"};
    }
    if (length != request.end()) return Error{"Transfer-Encoding and Content-Length together; send only one"};
  }
  return ok_result();
}

}  // namespace bwalloc
