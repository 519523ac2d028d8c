// The router's own addresses, which the API must never treat as a device's:
// every address of every interface in the current network namespace, and the
// IPv4 broadcast address of each (blocking 10.10.0.255 would block nobody's
// device and every subnet broadcast). I/O (getifaddrs); Linux only.
#pragma once

#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"

namespace bwalloc {

[[nodiscard]] Result<std::vector<IpAddress>> read_router_addresses();

}  // namespace bwalloc
