// A role's hooks on one interface, by the table in role.h: which of ours are
// missing, attaching its tc programs, and letting go of an interface that is
// no longer ours. XDP is attached by EbpfDatapath, which decides whether it
// is used at all (ingress_plan.h).
#pragma once

#include <string>
#include <vector>

#include "agent/common/result.h"
#include "agent/datapath/bpf_object.h"
#include "agent/datapath/datapath_state.h"
#include "agent/datapath/link_plan.h"
#include "agent/datapath/role.h"
#include "agent/datapath/rtnetlink.h"

namespace bwalloc {

// Our hooks absent from `ifindex` for a role ("xdp", "tc ingress", ...), in
// table order. XDP only counts as missing when it is in use.
std::vector<std::string> missing_hooks(Role role, int ifindex, bool xdp_in_use);

// What the kernel says now about the interface configured as `name` for a
// role whose programs were last attached at `attached_ifindex` (0 = nowhere),
// for plan_link.
LinkObservation observe_link(Role role, const std::string& name, int attached_ifindex, bool xdp_in_use);

// Attaches (or replaces) the role's tc programs on `ifindex`, recording in
// `state` a clsact qdisc this created (so detach may remove it later).
[[nodiscard]] Result<void> attach_tc_hooks(const BpfObject& object, const DatapathConfig& config, Role role,
                                           int ifindex, DatapathState& state);

// Takes our programs off an interface that is no longer ours (renamed away)
// and drops an XDP link pin left pointing at it or at nothing. Best effort:
// the interface may be gone, and its filters with it.
void release_interface(Role role, int old_ifindex, const std::string& pin_dir, DatapathState& state);

// True when no tc filter at all (ours or another tool's) hangs under the
// interface's clsact qdisc, so the one bwalloc created may go. False when
// some do or they cannot be counted.
bool clsact_is_empty(RtnlSocket& rtnl, int ifindex);

}  // namespace bwalloc
