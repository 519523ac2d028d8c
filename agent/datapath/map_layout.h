// Whether a pinned map may be adopted: its kernel-reported shape must equal
// what this build's BPF object declares, and the settings map must carry
// this build's BWA_LAYOUT_VERSION. Pure; pins.cpp feeds it what the kernel
// says (bpf_obj_get_info_by_fd).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace bwalloc {

struct MapLayout {
  uint32_t type = 0;
  uint32_t key_size = 0;
  uint32_t value_size = 0;
  uint32_t max_entries = 0;

  bool operator==(const MapLayout&) const = default;
};

std::string describe(const MapLayout& layout);

// nullopt when the pinned map can be adopted, else why not (for the warning
// that precedes replacing it). `layout_version` is the pinned settings'
// layout_version, only given for bwa_settings (nullopt: not checked).
std::optional<std::string> layout_mismatch(const MapLayout& expected, const MapLayout& found,
                                           std::optional<uint32_t> layout_version = std::nullopt);

}  // namespace bwalloc
