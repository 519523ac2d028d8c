// Adopting a pinned map into the BPF object about to be loaded, so counters,
// blocks and limits survive an agent restart. A pin is only trusted when its
// layout matches this build (map_layout.h); anything else is replaced.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "agent/common/result.h"

namespace bwalloc {

// True when the pin at `pin` was adopted (bpf_map__reuse_fd), false when
// there was none or it did not match (the pin is then removed with a
// warning saying what differs: its contents are lost). An error only when
// the kernel refuses a matching map.
[[nodiscard]] Result<bool> adopt_pinned_map(bpf_map* map, const std::string& pin);

}  // namespace bwalloc
