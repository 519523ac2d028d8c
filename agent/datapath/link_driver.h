// The kernel driver behind a network interface (ethtool's "driver" field),
// so the datapath can pick the cheapest hook that works on it.
#pragma once

#include <optional>
#include <string>

namespace bwalloc {

// The driver name of `ifname` in the current network namespace ("veth",
// "ixgbe", ...), or nullopt when the kernel does not say.
std::optional<std::string> link_driver(const std::string& ifname);

}  // namespace bwalloc
