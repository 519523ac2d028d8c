// How many entries the counter LRU gets for a policy map of max_devices.
// Pure (the CPU count is passed in) so the rule is tested without a kernel.
#pragma once

#include <cstdint>

namespace bwalloc {

// The kernel's common LRU keeps up to LOCAL_FREE_TARGET (128) free entries
// per possible CPU on local lists (fewer for small maps on recent kernels)
// and evicts to refill them, so an LRU of exactly max_devices entries would
// evict devices that have a policy, and with them their counts. The reserve
// on top, plus a quarter for addresses without a policy (devices over
// capacity, link-local, multicast), keeps every device counted. Capped at
// UINT32_MAX; `possible_cpus` below 1 counts as 1.
uint32_t counter_map_entries(uint32_t max_devices, int possible_cpus);

}  // namespace bwalloc
