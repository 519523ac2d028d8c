// SlotAllocator: gives each shaped device a small stable number (its "slot")
// that indexes its EDT state and travels in skb->mark from LAN ingress to
// WAN egress, where NAT has already hidden the device's address. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "agent/common/ip_address.h"

namespace bwalloc {

class SlotAllocator {
 public:
  // Slots 1..max_slot-1 are handed out; 0 means "no slot".
  explicit SlotAllocator(uint32_t max_slot);

  // The device's slot, assigning the lowest free one if it has none.
  // nullopt when every slot is taken.
  std::optional<uint32_t> assign(const IpAddress& device);
  // Records an assignment found in the kernel (adopting pins after a
  // restart). False when the slot is out of range or already someone else's.
  bool restore(const IpAddress& device, uint32_t slot);
  void release(const IpAddress& device);

  std::optional<uint32_t> slot_of(const IpAddress& device) const;
  size_t assigned() const { return by_device_.size(); }

 private:
  uint32_t max_slot_;
  uint32_t next_unused_ = 1;    // slots >= this were never handed out
  std::vector<uint32_t> free_;  // released slots, reused lowest first
  std::unordered_map<IpAddress, uint32_t> by_device_;
  std::unordered_map<uint32_t, IpAddress> by_slot_;
};

}  // namespace bwalloc
