// What the datapath does about policies when the kernel's policy map is
// full (datapath.max_devices entries). Pure: policy_table.cpp observes the
// map's answer and acts. Rules:
// - A policy the full map cannot take waits "over capacity": the device is
//   counted and forwarded but neither limited nor blocked, and the policy
//   is written again with every later apply (a device may have left).
// - A newer request for the same device replaces the waiting policy.
// - A block must hold: it takes the place of a device that is only limited
//   (never of another block), which then waits over capacity instead.
#pragma once

#include <optional>
#include <unordered_map>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/api/datapath.h"

namespace bwalloc {

using PolicyByDevice = std::unordered_map<IpAddress, DevicePolicy>;

// The policies one apply writes, in order: the waiting ones no request
// replaces, then the requests.
std::vector<DevicePolicy> policies_to_write(const PolicyByDevice& over_capacity,
                                            const std::vector<DevicePolicy>& requested);

// The kernel already holds exactly `wanted`: nothing to write.
bool already_held(const PolicyByDevice& held, const DevicePolicy& wanted);

// The full map refused `wanted`: the held policy to remove so `wanted` takes
// its place, or nullopt when `wanted` waits over capacity.
std::optional<DevicePolicy> plan_displacement(const DevicePolicy& wanted, const PolicyByDevice& held);

}  // namespace bwalloc
