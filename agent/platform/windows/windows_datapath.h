// The Windows datapath: the fallback backend's PcapDatapath with Npcap's
// wpcap.dll (loaded at run time) for counting and NetQos policies for
// shaping. Without Npcap the agent still starts: it says how to install
// Npcap, counts nothing, and still enforces through NetQos the priorities
// an operator sets (blocks, manual priorities) over the API.
#pragma once

#include <memory>

#include "agent/common/result.h"
#include "agent/config/config.h"
#include "agent/api/datapath.h"

namespace bwalloc {

[[nodiscard]] Result<std::unique_ptr<Datapath>> open_windows_datapath(const Config& config);

// `bwalloc detach`: removes every NetQos policy bwalloc made.
[[nodiscard]] Result<void> remove_windows_shaping();

}  // namespace bwalloc
