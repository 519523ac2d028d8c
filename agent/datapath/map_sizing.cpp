// The counter LRU's size; see map_sizing.h.
#include "agent/datapath/map_sizing.h"

#include <algorithm>

namespace bwalloc {

uint32_t counter_map_entries(uint32_t max_devices, int possible_cpus) {
  const uint64_t cpus = static_cast<uint64_t>(std::max(1, possible_cpus));
  const uint64_t entries = uint64_t{max_devices} + max_devices / 4 + 128 * cpus;
  return static_cast<uint32_t>(std::min<uint64_t>(entries, UINT32_MAX));
}

}  // namespace bwalloc
