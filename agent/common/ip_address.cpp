// Parsing and printing of IpAddress through inet_pton/inet_ntop, which are
// strict and already handle every IPv6 shorthand.
#include "agent/common/ip_address.h"

#include "agent/common/device_address.h"

#ifdef _WIN32
#include <ws2tcpip.h>  // inet_pton / inet_ntop
#else
#include <arpa/inet.h>
#endif

#include <algorithm>
#include <cstring>

namespace bwalloc {

namespace {
constexpr std::array<uint8_t, 12> kV4MappedPrefix = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
}

namespace {
// What an error message may quote of the input: printable ASCII only, so a
// NUL or a control character neither cuts the message short nor reaches a
// client raw.
std::string printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}
}  // namespace

Result<IpAddress> IpAddress::parse(std::string_view text) {
  // inet_pton reads a C string: without this check "10.0.0.9\0x" (a JSON
  // "\u0000", a %00 in a path) would parse as 10.0.0.9.
  const bool only_address_characters = std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' || c == ':';
  });
  if (text.empty() || text.size() > INET6_ADDRSTRLEN || !only_address_characters) {
    return Error{"not an IP address: '" + printable(text) + "'"};
  }
  std::string s(text);
  std::array<uint8_t, 16> bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    std::memcpy(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
    std::memcpy(bytes.data() + 12, &v4, 4);
    return IpAddress(bytes);
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(bytes.data(), &v6, 16);
    return IpAddress(bytes);
  }
  return Error{"not an IP address: '" + s + "'"};
}

IpAddress IpAddress::from_v4(uint32_t host_order) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size());
  bytes[12] = static_cast<uint8_t>(host_order >> 24);
  bytes[13] = static_cast<uint8_t>(host_order >> 16);
  bytes[14] = static_cast<uint8_t>(host_order >> 8);
  bytes[15] = static_cast<uint8_t>(host_order);
  return IpAddress(bytes);
}

bool IpAddress::is_v4() const {
  return std::memcmp(bytes_.data(), kV4MappedPrefix.data(), kV4MappedPrefix.size()) == 0;
}

bool IpAddress::is_unspecified() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

bool IpAddress::is_device_address() const { return non_device_reason(*this).empty(); }

std::string IpAddress::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (is_v4()) {
    inet_ntop(AF_INET, bytes_.data() + 12, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET6, bytes_.data(), buf, sizeof buf);
  }
  return buf;
}

}  // namespace bwalloc
