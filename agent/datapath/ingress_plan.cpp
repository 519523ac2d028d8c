// The XDP-or-tc rule; see ingress_plan.h.
#include "agent/datapath/ingress_plan.h"

namespace bwalloc {

IngressPlan plan_ingress(IngressAttachMode mode, const std::string& lan_interface,
                         const std::optional<std::string>& lan_driver) {
  if (mode == IngressAttachMode::TcOnly) {
    return {false, "XDP disabled by config (datapath.ingress_mode = \"tc\"): tc ingress counts", false};
  }
  if (mode == IngressAttachMode::Auto && lan_driver == "veth") {
    return {false,
            "XDP skipped on " + lan_interface +
                " (a veth: its XDP path costs more than tc); tc ingress counts (datapath.ingress_mode = "
                "\"xdp-native\" forces XDP)",
            true};
  }
  return {true, "", false};
}

}  // namespace bwalloc
