// The per-role hook table; see role.h.
#include "agent/datapath/role.h"

namespace bwalloc {

namespace {
constexpr TcHook kLanTc[] = {{TcDirection::Ingress, "bwa_tc_ingress"}, {TcDirection::Egress, "bwa_tc_egress"}};
constexpr TcHook kWanTc[] = {{TcDirection::Egress, "bwa_tc_wan_egress"}};

constexpr RoleHooks kLanHooks{"lan", "LAN", "bwa_xdp_ingress", "link_xdp_lan", kLanTc};
constexpr RoleHooks kWanHooks{"wan", "WAN", nullptr, nullptr, kWanTc};
}  // namespace

const RoleHooks& hooks_of(Role role) { return role == Role::Lan ? kLanHooks : kWanHooks; }

const std::string& interface_of(const DatapathConfig& config, Role role) {
  return role == Role::Lan ? config.lan_interface : config.wan_interface;
}

}  // namespace bwalloc
