// IpAddress: an IPv4 or IPv6 address held as 16 bytes, IPv4 mapped into
// ::ffff:0:0/96 exactly as the BPF maps key it (struct bwa_addr).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "agent/common/result.h"

namespace bwalloc {

class IpAddress {
 public:
  IpAddress() = default;
  explicit IpAddress(const std::array<uint8_t, 16>& bytes) : bytes_(bytes) {}

  // Accepts dotted IPv4 or any RFC 4291 IPv6 text; nothing else (no
  // hostnames, no prefixes, no surrounding spaces).
  static Result<IpAddress> parse(std::string_view text);
  static IpAddress from_v4(uint32_t host_order);

  bool is_v4() const;
  bool is_unspecified() const;
  // A unicast address a LAN device could own (the rule and its reasons are
  // in device_address.h): IPv6 link-local is excluded too, or a device's
  // fe80:: name would show it twice.
  bool is_device_address() const;
  // IPv4 as "a.b.c.d", IPv6 in RFC 5952 form.
  std::string to_string() const;

  const std::array<uint8_t, 16>& bytes() const { return bytes_; }
  auto operator<=>(const IpAddress&) const = default;

 private:
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace bwalloc

template <>
struct std::hash<bwalloc::IpAddress> {
  size_t operator()(const bwalloc::IpAddress& a) const noexcept {
    uint64_t h = 1469598103934665603ull;  // FNV-1a: cheap and good enough for map keys
    for (uint8_t b : a.bytes()) h = (h ^ b) * 1099511628211ull;
    return static_cast<size_t>(h);
  }
};
