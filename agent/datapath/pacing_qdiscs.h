// Which root qdiscs the datapath installs so EDT paces: fq (or mq + fq) on
// every shaped interface whose root is a kernel default, never replacing
// another tool's qdisc. Records in the datapath state what it replaced, so
// detach puts the default back. Where fq cannot go, limits act as policers.
#pragma once

#include <string>

#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"
#include "agent/datapath/datapath_state.h"
#include "agent/datapath/role.h"

namespace bwalloc {

struct Pacing {
  bool active = false;  // fq honours the EDT timestamps on every shaped interface
  std::string note;     // why (not), in words an operator can act on
};

// Puts fq on the LAN interface and, when attached, the WAN interface
// (`attached` holds each role's ifindex, 0 = not attached). An error only
// when rtnetlink itself fails; a qdisc that cannot go on is in the note.
[[nodiscard]] Result<Pacing> install_pacing_qdiscs(const DatapathConfig& config, const PerRole<int>& attached,
                                                   DatapathState& state);

// Whether fq sits on every configured interface now, from the root qdiscs
// alone (for `bwalloc status` from the pins, in whichever process).
Pacing read_pacing(const DatapathConfig& config);

// Whether a root qdisc is one bwalloc put there (fq, or mq at our handle).
bool is_bwalloc_root_qdisc(const std::string& kind, uint32_t handle);

}  // namespace bwalloc
