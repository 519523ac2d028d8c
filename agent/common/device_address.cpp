// The device address rule; see device_address.h.
#include "agent/common/device_address.h"

#include <algorithm>

namespace bwalloc {

namespace {
bool all_zero(const std::array<uint8_t, 16>& b, size_t from, size_t to) {
  return std::all_of(b.begin() + static_cast<long>(from), b.begin() + static_cast<long>(to),
                     [](uint8_t x) { return x == 0; });
}

// What kind of address it is, or nullptr for a unicast one a device can own.
const char* special_kind(const IpAddress& ip) {
  const auto& b = ip.bytes();
  if (ip.is_unspecified() || (ip.is_v4() && all_zero(b, 12, 16))) {
    return "the unspecified address (DHCP clients send from it before they have an address, so blocking it would "
           "cut off every device that joins)";
  }
  if (ip.is_v4()) {
    const uint8_t first = b[12];
    if (first == 0) return "in 0.0.0.0/8 (\"this network\"), which no device owns";
    if (first == 127) return "a loopback address (the router talking to itself)";
    if (first >= 224 && first <= 239) return "a multicast group address (many receivers, not one device)";
    if (b[12] == 255 && b[13] == 255 && b[14] == 255 && b[15] == 255) {
      return "the broadcast address (every device on the link at once)";
    }
    if (first >= 240) return "reserved (240.0.0.0/4), never assigned to a device";
    return nullptr;
  }
  if (all_zero(b, 0, 15) && b[15] == 1) return "the loopback address (the router talking to itself)";
  if (b[0] == 0xff) return "a multicast group address (many receivers, not one device)";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) {
    return "IPv6 link-local, which never crosses the router (use the device's IPv4 or global IPv6 address)";
  }
  return nullptr;
}
}  // namespace

std::string non_device_reason(const IpAddress& ip) {
  const char* kind = special_kind(ip);
  return kind ? ip.to_string() + " is not a device address: it is " + kind : "";
}

Result<void> check_device_address(const IpAddress& ip, const std::vector<IpAddress>& router_addresses) {
  if (std::string why = non_device_reason(ip); !why.empty()) return Error{why};
  if (std::find(router_addresses.begin(), router_addresses.end(), ip) != router_addresses.end()) {
    return Error{ip.to_string() + " is not a device address: it is one of this router's own addresses"};
  }
  return {};
}

}  // namespace bwalloc
