// Which addresses can be a LAN device's: the rule the API applies before it
// makes a device row, a block or a priority for an address, and the tick
// applies to the kernel's counters. Pure.
#pragma once

#include <string>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"

namespace bwalloc {

// Why `ip` can never be one LAN device's address (unspecified, "this
// network", loopback, multicast, broadcast, reserved, IPv6 link-local), in
// words for an operator; "" when it can be.
std::string non_device_reason(const IpAddress& ip);

// A device address that is not one of `router_addresses` (the router's own
// addresses and broadcast addresses); the error says why not.
[[nodiscard]] Result<void> check_device_address(const IpAddress& ip, const std::vector<IpAddress>& router_addresses);

}  // namespace bwalloc
