// Attaching and detaching the datapath's programs on interfaces: XDP through
// a pinned BPF link (hitless replacement on restart, refused by the kernel
// when another XDP program is there) and tc through clsact direct-action
// filters at bwalloc's own handle and priority. Another tool's programs are
// never replaced or removed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"

namespace bwalloc {

// bwalloc's tc filters sit at this handle and priority on every hook.
constexpr uint32_t kTcFilterHandle = 0xB0A;
constexpr uint32_t kTcFilterPriority = 0xB0A;

enum class TcDirection { Ingress, Egress };

// The clsact hook a direction's filters hang under, as rtnetlink names it
// (TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS or TC_H_MIN_EGRESS)).
uint32_t clsact_parent(TcDirection direction);
// How status and messages name a tc hook: "tc ingress", "tc egress".
std::string tc_hook_label(TcDirection direction);

struct XdpAttachment {
  bool attached = false;
  std::string mode;  // "native" or "generic"
  uint32_t program_id = 0;
};

// The name the kernel reports for a program id ("" if it is gone). Kernel
// names are cut at 15 characters; ours all start with "bwa_".
std::string program_name(uint32_t program_id);
bool is_bwalloc_program(uint32_t program_id);
// The full name of one of our programs from the kernel's cut one
// ("bwa_tc_wan_egre" -> "bwa_tc_wan_egress"); other names come back as given.
std::string full_program_name(const std::string& kernel_name);

// Attaches (or, when `link_pin` holds a live link on this interface,
// atomically replaces) the XDP program. Fails without touching anything when
// a foreign XDP program is attached.
[[nodiscard]] Result<XdpAttachment> attach_xdp(int prog_fd, int ifindex, const std::string& ifname,
                                               IngressAttachMode mode, const std::string& link_pin);
// What XDP program is on the interface now, if any.
XdpAttachment query_xdp(int ifindex);

// Attaches or replaces our tc filter. `created_clsact` reports whether this
// call created the clsact qdisc (so detach may remove it later).
[[nodiscard]] Result<void> attach_tc(int prog_fd, int ifindex, const std::string& ifname, TcDirection direction,
                                     bool& created_clsact);
// The program id of our tc filter on that hook, 0 when there is none.
uint32_t query_tc(int ifindex, TcDirection direction);
// Removes our filter if it is there and is ours.
[[nodiscard]] Result<void> detach_tc(int ifindex, const std::string& ifname, TcDirection direction);
// Removes the clsact qdisc (only call when no filters remain).
[[nodiscard]] Result<void> destroy_clsact(int ifindex, const std::string& ifname);

}  // namespace bwalloc
