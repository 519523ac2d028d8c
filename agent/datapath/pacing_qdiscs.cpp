// fq installation policy; see pacing_qdiscs.h.
#include "agent/datapath/pacing_qdiscs.h"

#include <cerrno>
#include <cstring>
#include <net/if.h>
#include <vector>

#include "agent/datapath/qdisc.h"
#include "agent/datapath/rtnetlink.h"

namespace bwalloc {

namespace {
// sch_fq missing shows as "unknown qdisc kind": EINVAL, or ENOENT when the
// kernel tried and failed to load the module.
bool is_missing_qdisc_kind(const std::string& message) {
  return message.find(std::strerror(EINVAL)) != std::string::npos ||
         message.find(std::strerror(ENOENT)) != std::string::npos;
}
}  // namespace

bool is_bwalloc_root_qdisc(const std::string& kind, uint32_t handle) {
  return kind == "fq" || (kind == "mq" && handle == kBwallocQdiscHandle);
}

Result<Pacing> install_pacing_qdiscs(const DatapathConfig& config, const PerRole<int>& attached, DatapathState& state) {
  Pacing pacing;
  if (!config.install_fq) {
    pacing.note = "fq installation disabled by config (datapath.install_fq = false): limits act as policers";
    return pacing;
  }
  auto rtnl = RtnlSocket::open();
  if (!rtnl) return rtnl.error();
  std::vector<std::string> problems;
  std::vector<std::string> without_fq;  // interfaces where the kernel lacks sch_fq
  std::string fq_error;
  for (Role role : kRoles) {
    // The LAN is always shaped: open() attaches it first, and interface
    // following only calls this once it attached a role.
    if (role != Role::Lan && attached[role] == 0) continue;
    const int ifindex = attached[role];
    const std::string& ifname = interface_of(config, role);
    auto root = read_root_qdisc(*rtnl, ifindex);
    if (!root) return root.error();
    std::string kind = root->has_value() ? (*root)->kind : "";
    if (root->has_value() && is_bwalloc_root_qdisc(kind, (*root)->handle)) continue;
    if (!is_default_root_qdisc(kind)) {
      problems.push_back(ifname + " has root qdisc '" + kind + "' from another tool (not replaced)");
      continue;
    }
    auto queues = tx_queue_count(*rtnl, ifindex);
    auto installed = install_fq(*rtnl, ifindex, queues ? *queues : 1);
    if (!installed) {
      if (is_missing_qdisc_kind(installed.message())) {
        without_fq.push_back(ifname);
        fq_error = installed.message();
      } else {
        problems.push_back(ifname + ": " + installed.message());
      }
      continue;
    }
    // What detach restores: it deletes our root and the kernel attaches the
    // device's default again, which is what was there (we only replace
    // default kinds, see is_default_root_qdisc). Recorded for the operator.
    state.values[qdisc_previous_key(role)] = kind.empty() ? "none" : kind;
    if (root->has_value()) state.values[qdisc_previous_handle_key(role)] = format_qdisc_handle((*root)->handle);
    state.set_flag(qdisc_installed_key(role), true);
  }
  if (!without_fq.empty()) {
    std::string names = without_fq.front();
    for (size_t i = 1; i < without_fq.size(); ++i) names += ", " + without_fq[i];
    problems.insert(problems.begin(), "sch_fq is not available in this kernel (" + names + ": " + fq_error + ")");
  }
  pacing.active = problems.empty();
  if (!pacing.active) {
    pacing.note = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) pacing.note += "; " + problems[i];
    pacing.note += ": limits act as policers (the horizon is the burst, at least datapath.policer_burst)";
  } else {
    pacing.note = "fq honours EDT timestamps on every shaped interface";
  }
  return pacing;
}

Pacing read_pacing(const DatapathConfig& config) {
  auto rtnl = RtnlSocket::open();
  if (!rtnl) return {false, rtnl.message()};
  std::vector<std::string> missing;
  for (Role role : kRoles) {
    const std::string& ifname = interface_of(config, role);
    if (ifname.empty()) continue;
    unsigned ifindex = if_nametoindex(ifname.c_str());
    if (ifindex == 0) {
      missing.push_back(ifname + " does not exist");
      continue;
    }
    auto root = read_root_qdisc(*rtnl, static_cast<int>(ifindex));
    std::string kind = root && root->has_value() ? (*root)->kind : "none";
    if (kind != "fq" && kind != "mq") missing.push_back(ifname + " has root qdisc '" + kind + "', not fq");
  }
  if (missing.empty()) return {true, "fq honours EDT timestamps on every shaped interface"};
  std::string note = missing.front();
  for (size_t i = 1; i < missing.size(); ++i) note += "; " + missing[i];
  return {false, note + ": limits act as policers (the horizon is the burst, at least datapath.policer_burst)"};
}

}  // namespace bwalloc
