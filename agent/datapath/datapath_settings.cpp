// Settings map writes; see datapath_settings.h.
#include "agent/datapath/datapath_settings.h"

#include <bpf/bpf.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "bwalloc_maps.h"

namespace bwalloc {

Result<void> write_settings(const MapFds& fds, const DatapathConfig& config, bool pacing_active,
                            bool xdp_counts_ingress) {
  bwa_settings settings{};
  settings.horizon_ns = pacing_active ? config.horizon_ns : std::max(config.horizon_ns, config.policer_burst_ns);
  settings.ce_target_ns = config.ce_target_ns;
  settings.flags = (config.ecn ? BWA_SETTING_ECN : 0u) | (xdp_counts_ingress ? 0u : BWA_SETTING_TC_INGRESS_COUNTS);
  settings.layout_version = BWA_LAYOUT_VERSION;
  settings.policy_generation = next_policy_generation(fds.settings);  // never back to an old value
  settings.fair_quanta = BWA_DEFAULT_FAIR_QUANTA;
  uint32_t zero = 0;
  if (bpf_map_update_elem(fds.settings, &zero, &settings, BPF_ANY) != 0) {
    return make_error("write datapath settings", std::strerror(errno));
  }
  return sync_port_classes(fds.ports, config.priority_ports, config.unlimited_ports);
}

}  // namespace bwalloc
