// Slot bookkeeping; see slot_allocator.h.
#include "agent/datapath/slot_allocator.h"

#include <algorithm>
#include <functional>

namespace bwalloc {

SlotAllocator::SlotAllocator(uint32_t max_slot) : max_slot_(max_slot) {}

std::optional<uint32_t> SlotAllocator::assign(const IpAddress& device) {
  if (auto it = by_device_.find(device); it != by_device_.end()) return it->second;
  uint32_t slot = 0;
  while (!free_.empty()) {
    std::pop_heap(free_.begin(), free_.end(), std::greater<>());
    uint32_t candidate = free_.back();
    free_.pop_back();
    if (!by_slot_.contains(candidate)) {
      slot = candidate;
      break;
    }
  }
  while (slot == 0 && next_unused_ < max_slot_) {
    if (!by_slot_.contains(next_unused_)) slot = next_unused_;
    ++next_unused_;
  }
  if (slot == 0) return std::nullopt;
  by_device_[device] = slot;
  by_slot_.emplace(slot, device);
  return slot;
}

bool SlotAllocator::restore(const IpAddress& device, uint32_t slot) {
  if (slot == 0 || slot >= max_slot_) return false;
  if (auto it = by_slot_.find(slot); it != by_slot_.end()) return it->second == device;
  if (by_device_.contains(device)) return false;
  by_device_[device] = slot;
  by_slot_.emplace(slot, device);
  return true;
}

void SlotAllocator::release(const IpAddress& device) {
  auto it = by_device_.find(device);
  if (it == by_device_.end()) return;
  by_slot_.erase(it->second);
  if (it->second < next_unused_) {
    free_.push_back(it->second);
    std::push_heap(free_.begin(), free_.end(), std::greater<>());
  }
  by_device_.erase(it);
}

std::optional<uint32_t> SlotAllocator::slot_of(const IpAddress& device) const {
  auto it = by_device_.find(device);
  if (it == by_device_.end()) return std::nullopt;
  return it->second;
}

}  // namespace bwalloc
