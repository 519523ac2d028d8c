// Parsing and printing of IpAddress through inet_pton/inet_ntop, which are
// strict and already handle every IPv6 shorthand.
#include "agent/common/ip_address.h"

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

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) {
    return Error{"not an IP address: '" + std::string(text.substr(0, 64)) + "'"};
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

bool IpAddress::is_device_address() const {
  if (is_unspecified()) return false;
  if (is_v4()) {
    const uint8_t first = bytes_[12];
    const bool broadcast = bytes_[12] == 255 && bytes_[13] == 255 && bytes_[14] == 255 && bytes_[15] == 255;
    return first != 127 && (first & 0xf0) != 0xe0 && !broadcast && first != 0;
  }
  const bool loopback = std::all_of(bytes_.begin(), bytes_.end() - 1, [](uint8_t b) { return b == 0; }) && bytes_[15] == 1;
  const bool multicast = bytes_[0] == 0xff;
  const bool link_local = bytes_[0] == 0xfe && (bytes_[1] & 0xc0) == 0x80;
  return !loopback && !multicast && !link_local;
}

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
