// Pinned map compatibility; see map_layout.h.
#include "agent/datapath/map_layout.h"

#include <vector>

#include "bwalloc_maps.h"

namespace bwalloc {

std::string describe(const MapLayout& layout) {
  return "type " + std::to_string(layout.type) + ", key " + std::to_string(layout.key_size) + " B, value " +
         std::to_string(layout.value_size) + " B, " + std::to_string(layout.max_entries) + " entries";
}

std::optional<std::string> layout_mismatch(const MapLayout& expected, const MapLayout& found,
                                           std::optional<uint32_t> layout_version) {
  std::vector<std::string> differences;
  auto compare = [&](const char* what, uint32_t want, uint32_t have) {
    if (want != have)
      differences.push_back(std::string(what) + " " + std::to_string(have) + ", expected " + std::to_string(want));
  };
  compare("map type", expected.type, found.type);
  compare("key size", expected.key_size, found.key_size);
  compare("value size", expected.value_size, found.value_size);
  compare("max entries", expected.max_entries, found.max_entries);
  if (layout_version) compare("layout version", BWA_LAYOUT_VERSION, *layout_version);
  if (differences.empty()) return std::nullopt;
  std::string text = differences.front();
  for (size_t i = 1; i < differences.size(); ++i) text += "; " + differences[i];
  return text;
}

}  // namespace bwalloc
