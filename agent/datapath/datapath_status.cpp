// Status building; see datapath_status.h.
#include "agent/datapath/datapath_status.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>

#include <vector>

#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/datapath/interface_hooks.h"
#include "agent/datapath/libbpf_log.h"

namespace bwalloc {

DatapathStatus collect_status(const DatapathConfig& config, const MapFds& fds) {
  DatapathStatus status;
  status.backend = Backend::Ebpf;
  auto add_program = [&](uint32_t id, const std::string& ifname, const std::string& hook) {
    if (id == 0) return;
    status.programs.push_back({full_program_name(program_name(id)), ifname, hook, id});
  };
  for (Role role : kRoles) {
    const std::string& ifname = interface_of(config, role);
    if (ifname.empty()) continue;
    unsigned found = if_nametoindex(ifname.c_str());
    if (found == 0) continue;
    const int ifindex = static_cast<int>(found);
    const RoleHooks& hooks = hooks_of(role);
    if (hooks.xdp_program) {
      XdpAttachment xdp = query_xdp(ifindex);
      if (xdp.attached && is_bwalloc_program(xdp.program_id))
        add_program(xdp.program_id, ifname, "xdp (" + xdp.mode + ")");
    }
    for (const TcHook& tc : hooks.tc) add_program(query_tc(ifindex, tc.direction), ifname, tc_hook_label(tc.direction));
  }
  status.maps = {
      {"bwa_counters", map_max_entries(fds.counters), count_map_entries(fds.counters, sizeof(bwa_addr))},
      {"bwa_policy", map_max_entries(fds.policy), count_map_entries(fds.policy, sizeof(bwa_addr))},
      {"bwa_edt", map_max_entries(fds.edt), 0},
      {"bwa_slot_addr", map_max_entries(fds.slot_addr), 0},
      {"bwa_ports", 2 * 65536, count_classed_ports(fds.ports)},  // ports, not words
      {"bwa_flows", map_max_entries(fds.flows) * BWA_FLOW_WAYS, 0},
  };
  // Slots in use equal policies held; an array map has no "used" of its own.
  status.maps[2].used_entries = status.maps[1].used_entries * 2;
  status.maps[3].used_entries = status.maps[1].used_entries;

  int cpus = libbpf_num_possible_cpus();
  if (cpus > 0 && fds.global >= 0) {
    std::vector<bwa_global> per_cpu(cpus);
    uint32_t zero = 0;
    if (bpf_map_lookup_elem(fds.global, &zero, per_cpu.data()) == 0) {
      for (const auto& g : per_cpu) {
        status.unparsed_packets += g.unparsed_packets;
        status.counter_insert_failures += g.counter_insert_failures;
        status.new_devices += g.new_devices;
        status.unshaped_no_slot += g.unshaped_no_slot;
      }
    }
  }
  return status;
}

DatapathStatus running_status(const DatapathConfig& config, const MapFds& fds, const DatapathFacts& facts) {
  DatapathStatus status = collect_status(config, fds);
  status.pacing_active = facts.pacing.active;
  status.pacing_note = facts.pacing.note;
  if (!facts.xdp_note.empty()) status.pacing_note += "; " + facts.xdp_note;
  for (Role role : kRoles) {
    const std::string& name = interface_of(config, role);
    if (name.empty()) continue;
    int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    bool complete =
        ifindex != 0 && ifindex == facts.attached[role] && missing_hooks(role, ifindex, facts.xdp_in_use).empty();
    status.interfaces.push_back(InterfaceStatus{hooks_of(role).name, name, ifindex, complete});
  }
  status.interface_reattachments = facts.reattachments;
  status.devices_over_capacity = facts.devices_over_capacity;
  return status;
}

Result<DatapathStatus> read_pinned_status(const DatapathConfig& config) {
  route_libbpf_logs();
  auto fds = open_pinned_maps(config.pin_dir);
  if (!fds) return fds.error();
  DatapathStatus status = collect_status(config, *fds);
  close_map_fds(*fds);
  Pacing pacing = read_pacing(config);
  status.pacing_active = pacing.active;
  status.pacing_note = pacing.note;
  return status;
}

}  // namespace bwalloc
