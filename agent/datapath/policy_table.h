// PolicyTable: keeps the kernel's policy, slot and pacing-clock maps in line
// with the policies the agent wants, and remembers what they hold (each
// shaped device's slot, the policies written, those the full map could not
// take). What happens when the map is full is decided by capacity_plan.h;
// this class observes the kernel's answers and acts.
#pragma once

#include <cstdint>
#include <vector>

#include "agent/common/result.h"
#include "agent/datapath/capacity_plan.h"
#include "agent/api/datapath.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/slot_allocator.h"

namespace bwalloc {

class PolicyTable {
 public:
  // `max_devices` only names the setting to raise in warnings.
  PolicyTable(const MapFds& fds, uint32_t max_devices) : fds_(fds), max_devices_(max_devices) {}

  // Takes over the policies and slots of adopted pinned maps; a policy whose
  // slot is unusable is dropped from the bookkeeping (it gets a new slot
  // when applied again).
  [[nodiscard]] Result<void> restore();

  // See Datapath::apply_policies and remove_policy.
  [[nodiscard]] Result<void> apply(const std::vector<DevicePolicy>& requested);
  [[nodiscard]] Result<void> remove(const IpAddress& address);

  size_t held() const { return held_.size(); }
  size_t over_capacity() const { return over_capacity_.size(); }

 private:
  // Outcome of writing one policy: 0, or the errno (E2BIG: the map is full).
  int write_policy(const DevicePolicy& wanted, uint32_t slot);

  MapFds fds_;
  uint32_t max_devices_;
  SlotAllocator slots_{BWA_MAX_SLOTS};
  PolicyByDevice held_;           // what the policy map holds
  PolicyByDevice over_capacity_;  // wanted, refused by the full map
};

}  // namespace bwalloc
