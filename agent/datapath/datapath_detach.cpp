// `bwalloc detach`: undoes exactly what the datapath changed, from its pins
// and its state file (maybe in another process, after a crash). See
// detach_datapath in ebpf_datapath.h.
#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "agent/common/log.h"
#include "agent/datapath/datapath_state.h"
#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/interface_hooks.h"
#include "agent/datapath/libbpf_log.h"
#include "agent/datapath/pacing_qdiscs.h"
#include "agent/datapath/pins.h"
#include "agent/datapath/qdisc.h"
#include "agent/datapath/role.h"

namespace bwalloc {

Result<void> detach_datapath(const DatapathConfig& config) {
  route_libbpf_logs();
  auto state = load_datapath_state(datapath_state_path(config));
  if (!state) return state.error();
  std::vector<std::string> problems;
  auto note = [&](const Result<void>& r) {
    if (!r) problems.push_back(r.message());
  };

  for (Role role : kRoles) {
    const char* link_pin = hooks_of(role).xdp_link_pin;
    if (link_pin) unlink(pin_path(config.pin_dir, link_pin).c_str());  // the last reference: the kernel detaches it
  }

  auto rtnl = RtnlSocket::open();
  if (!rtnl) return rtnl.error();
  for (Role role : kRoles) {
    const std::string& ifname = interface_of(config, role);
    if (ifname.empty()) continue;
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) continue;  // the interface is gone, and our filters with it
    int index = static_cast<int>(ifindex);
    // Both hooks on every role, not just the role's table: whatever of ours
    // is there goes (detach_tc leaves other tools' filters alone).
    note(detach_tc(index, ifname, TcDirection::Ingress));
    note(detach_tc(index, ifname, TcDirection::Egress));
    if (state->flag(clsact_created_key(role))) {
      if (clsact_is_empty(*rtnl, index)) {
        note(destroy_clsact(index, ifname));
      } else {
        log_info("datapath", "clsact on " + ifname + " still holds other tools' filters; left in place");
      }
    }
    if (state->flag(qdisc_installed_key(role))) {
      auto root = read_root_qdisc(*rtnl, index);
      if (root && root->has_value() && is_bwalloc_root_qdisc((*root)->kind, (*root)->handle)) {
        note(delete_root_qdisc(*rtnl, index));
      }
    }
  }
  for (const char* name : kMapNames) unlink(pin_path(config.pin_dir, name).c_str());
  for (const char* name : kRetiredMapNames) unlink(pin_path(config.pin_dir, name).c_str());
  if (rmdir(config.pin_dir.c_str()) != 0 && errno != ENOENT) {
    problems.push_back("remove pin directory " + config.pin_dir + ": " + std::strerror(errno) +
                       " (it holds pins bwalloc did not make)");
  }
  unlink(datapath_state_path(config).c_str());
  if (!problems.empty()) {
    std::string all = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) all += "; " + problems[i];
    return Error{"detach: " + all};
  }
  return {};
}

}  // namespace bwalloc
