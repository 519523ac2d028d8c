// The interfaces the datapath works on, by role, and the one table of what
// bwalloc hangs on each: which program goes on which hook, which pin keeps
// an XDP link alive. Everything that attaches, checks, follows or detaches
// an interface reads this table instead of spelling the roles out.
#pragma once

#include <array>
#include <span>
#include <string>

#include "agent/datapath/datapath_config.h"
#include "agent/datapath/ebpf_attach.h"

namespace bwalloc {

// LAN: the devices' side, counted both ways and shaped on download.
// WAN: the internet side, where upload is shaped (optional).
enum class Role { Lan, Wan };

inline constexpr std::array<Role, 2> kRoles = {Role::Lan, Role::Wan};

struct TcHook {
  TcDirection direction;
  const char* program;  // name of the program in bpf/bwalloc.bpf.c
};

struct RoleHooks {
  const char* name;   // "lan": the status' role and the state file's key suffix
  const char* label;  // "LAN": how messages name the role
  // The XDP ingress program and the pin of its link, or nullptr when the
  // role has no XDP hook. XDP is only used when open() decided so; tc
  // ingress (in `tc`) then leaves the counting to it.
  const char* xdp_program;
  const char* xdp_link_pin;
  std::span<const TcHook> tc;
};

const RoleHooks& hooks_of(Role role);

// One value per role, e.g. the ifindex each role's programs are attached to.
template <class T>
struct PerRole {
  std::array<T, kRoles.size()> values{};
  T& operator[](Role role) { return values[static_cast<size_t>(role)]; }
  const T& operator[](Role role) const { return values[static_cast<size_t>(role)]; }
};

// The interface name the configuration gives the role ("" = not used).
const std::string& interface_of(const DatapathConfig& config, Role role);

}  // namespace bwalloc
