// The full-policy-map rules; see capacity_plan.h.
#include "agent/datapath/capacity_plan.h"

#include <algorithm>

namespace bwalloc {

std::vector<DevicePolicy> policies_to_write(const PolicyByDevice& over_capacity,
                                            const std::vector<DevicePolicy>& requested) {
  std::vector<DevicePolicy> policies;
  for (const auto& [address, waiting] : over_capacity) {
    bool superseded = std::any_of(requested.begin(), requested.end(),
                                  // clang 14 cannot capture a structured binding; an init-capture can.
                                  [&address = address](const DevicePolicy& p) { return p.address == address; });
    if (!superseded) policies.push_back(waiting);
  }
  policies.insert(policies.end(), requested.begin(), requested.end());
  return policies;
}

bool already_held(const PolicyByDevice& held, const DevicePolicy& wanted) {
  auto known = held.find(wanted.address);
  return known != held.end() && known->second == wanted;
}

std::optional<DevicePolicy> plan_displacement(const DevicePolicy& wanted, const PolicyByDevice& held) {
  if (wanted.priority != Priority::Blocked) return std::nullopt;
  auto limited = std::find_if(held.begin(), held.end(),
                              [](const auto& entry) { return entry.second.priority != Priority::Blocked; });
  if (limited == held.end()) return std::nullopt;
  return limited->second;
}

}  // namespace bwalloc
