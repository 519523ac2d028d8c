// Privileges of the running agent. Start-up needs root's full set (setns
// into the router's namespace, loading and attaching programs, telling our
// programs from foreign ones by id, pins, qdiscs); once it is done the agent
// keeps only what the tick loop, the API's admin commands and a re-attach
// after an interface comes back need:
//   CAP_BPF       map reads and writes (the bpf() syscall is gated on it with
//                 kernel.unprivileged_bpf_disabled), re-loading programs;
//   CAP_NET_ADMIN attaching XDP/tc programs, clsact and qdiscs again;
//   CAP_NET_RAW   the gateway prober's raw ICMP socket (ping sockets are off
//                 by default: net.ipv4.ping_group_range is "1 0").
// The agent stays uid 0: the pins, the state directory and the database are
// root's own files, so owner permissions cover them without
// CAP_DAC_OVERRIDE, and no uid change means no PR_SET_KEEPCAPS dance.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/api/agent_control.h"
#include "agent/common/result.h"

namespace bwalloc {

// One bit per capability number (1 << CAP_xxx), as in /proc/<pid>/status.
using CapabilityMask = uint64_t;

// What the agent keeps with the eBPF (or command-shaper) backend; the
// simulator needs nothing.
CapabilityMask runtime_capabilities(BackendChoice backend);

// The sets of one thread, as the kernel reports them.
struct CapabilitySets {
  CapabilityMask effective = 0;
  CapabilityMask permitted = 0;
  CapabilityMask inheritable = 0;
  CapabilityMask bounding = 0;
  CapabilityMask ambient = 0;
  bool no_new_privs = false;
};

// The outcome of restrict_process_capabilities, for the log and /health.
struct PrivilegeReport {
  bool restricted = false;  // false until the agent has dropped what it does not need
  CapabilitySets sets;      // union over all the process's threads after the drop
  size_t threads = 0;       // threads the restriction was applied to
  std::string note;         // what could not be done and why (empty when all went as asked)
};

// "cap_bpf,cap_net_admin" (kernel order); unknown bits as "cap_N".
std::string capability_names(CapabilityMask mask);
std::vector<std::string> capability_list(CapabilityMask mask);
// Reads "CapEff:" etc. from a /proc/<pid>[/task/<tid>]/status text.
[[nodiscard]] Result<CapabilitySets> parse_status_capabilities(const std::string& status_text);
// Union of the sets of every thread of this process (from /proc/self/task).
[[nodiscard]] Result<CapabilitySets> process_capabilities();

// Restricts every thread of this process to `keep`: the bounding set loses
// everything else (needs CAP_SETPCAP; without it the bounding set is left
// and the note says so), permitted and effective become `keep` (what of it
// is held), inheritable and ambient are cleared, and no_new_privs is set so
// nothing executed later can gain privileges. Capabilities are per thread
// in Linux, so this runs on each thread through a signal (like libpsx).
[[nodiscard]] Result<PrivilegeReport> restrict_process_capabilities(CapabilityMask keep);

// The report as /health shows it.
PrivilegeView privilege_view(const PrivilegeReport& report);

}  // namespace bwalloc
