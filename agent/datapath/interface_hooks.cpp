// Per-role hook checks, tc attachment and release; see interface_hooks.h.
#include "agent/datapath/interface_hooks.h"

#include <bpf/bpf.h>
#include <net/if.h>
#include <unistd.h>

#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/pins.h"
#include "agent/datapath/qdisc.h"

namespace bwalloc {

std::vector<std::string> missing_hooks(Role role, int ifindex, bool xdp_in_use) {
  const RoleHooks& hooks = hooks_of(role);
  std::vector<std::string> missing;
  if (hooks.xdp_program && xdp_in_use) {
    XdpAttachment now = query_xdp(ifindex);
    if (!now.attached || !is_bwalloc_program(now.program_id)) missing.push_back("xdp");
  }
  for (const TcHook& tc : hooks.tc) {
    if (query_tc(ifindex, tc.direction) == 0) missing.push_back(tc_hook_label(tc.direction));
  }
  return missing;
}

LinkObservation observe_link(Role role, const std::string& name, int attached_ifindex, bool xdp_in_use) {
  LinkObservation seen;
  seen.name = name;
  seen.current_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
  seen.attached_ifindex = attached_ifindex;
  char now_named[IF_NAMESIZE] = {};
  if (attached_ifindex != 0 && if_indextoname(static_cast<unsigned>(attached_ifindex), now_named)) {
    seen.attached_now_name = now_named;
  }
  if (seen.current_ifindex != 0 && seen.current_ifindex == attached_ifindex) {
    seen.missing_hooks = missing_hooks(role, attached_ifindex, xdp_in_use);
  }
  return seen;
}

Result<void> attach_tc_hooks(const BpfObject& object, const DatapathConfig& config, Role role, int ifindex,
                             DatapathState& state) {
  const std::string& ifname = interface_of(config, role);
  for (const TcHook& tc : hooks_of(role).tc) {
    bool created_clsact = false;
    auto attached = attach_tc(object.program_fd(tc.program), ifindex, ifname, tc.direction, created_clsact);
    if (created_clsact) state.set_flag(clsact_created_key(role), true);
    if (!attached) return attached.error();
  }
  return {};
}

void release_interface(Role role, int old_ifindex, const std::string& pin_dir, DatapathState& state) {
  const RoleHooks& hooks = hooks_of(role);
  if (hooks.xdp_link_pin) {
    const std::string pin = pin_path(pin_dir, hooks.xdp_link_pin);
    int link_fd = bpf_obj_get(pin.c_str());
    if (link_fd >= 0) {
      bpf_link_info info{};
      uint32_t len = sizeof info;
      bool stale = bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0 || info.xdp.ifindex == 0 ||
                   static_cast<int>(info.xdp.ifindex) == old_ifindex;
      close(link_fd);
      if (stale) unlink(pin.c_str());  // the last reference: the kernel detaches and frees the link
    }
  }
  char name[IF_NAMESIZE] = {};
  if (if_indextoname(static_cast<unsigned>(old_ifindex), name) == nullptr) return;  // gone, filters with it
  for (const TcHook& tc : hooks.tc) (void)detach_tc(old_ifindex, name, tc.direction);
  if (state.flag(clsact_created_key(role))) {
    auto rtnl = RtnlSocket::open();
    if (rtnl && clsact_is_empty(*rtnl, old_ifindex)) (void)destroy_clsact(old_ifindex, name);
    state.set_flag(clsact_created_key(role), false);
  }
}

bool clsact_is_empty(RtnlSocket& rtnl, int ifindex) {
  auto ingress = count_tc_filters(rtnl, ifindex, clsact_parent(TcDirection::Ingress));
  auto egress = count_tc_filters(rtnl, ifindex, clsact_parent(TcDirection::Egress));
  return ingress && egress && *ingress + *egress == 0;
}

}  // namespace bwalloc
