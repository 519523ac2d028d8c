// The Windows datapath: Npcap capture for counting and NetQos policies for
// shaping. What is in this build: the NetQos shaping (NetQosShaper run
// through CreateProcessW, serialised) and the run-time Npcap check; the
// capture loop itself is the pcap datapath of agent/fallback/ once it is
// built for Windows. Until then, and whenever Npcap is absent, the agent
// runs with capture off: it counts nothing but still enforces the
// priorities an operator sets (blocks, manual priorities) through NetQos.
#pragma once

#include <memory>

#include "agent/common/result.h"
#include "agent/config/config.h"
#include "agent/datapath/datapath.h"

namespace bwalloc {

[[nodiscard]] Result<std::unique_ptr<Datapath>> open_windows_datapath(const Config& config);

// `bwalloc detach`: removes every NetQos policy bwalloc made.
[[nodiscard]] Result<void> remove_windows_shaping(const Config& config);

}  // namespace bwalloc
