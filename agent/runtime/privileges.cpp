// Capability sets and the drop after start-up; see privileges.h.
#include "agent/runtime/privileges.h"

#include <dirent.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "agent/runtime/all_threads.h"

namespace bwalloc {
namespace {

constexpr CapabilityMask bit(int cap) { return CapabilityMask{1} << cap; }

// Kernel names, indexed by capability number (include/uapi/linux/capability.h).
constexpr std::array<const char*, 41> kNames = {"cap_chown",
                                                "cap_dac_override",
                                                "cap_dac_read_search",
                                                "cap_fowner",
                                                "cap_fsetid",
                                                "cap_kill",
                                                "cap_setgid",
                                                "cap_setuid",
                                                "cap_setpcap",
                                                "cap_linux_immutable",
                                                "cap_net_bind_service",
                                                "cap_net_broadcast",
                                                "cap_net_admin",
                                                "cap_net_raw",
                                                "cap_ipc_lock",
                                                "cap_ipc_owner",
                                                "cap_sys_module",
                                                "cap_sys_rawio",
                                                "cap_sys_chroot",
                                                "cap_sys_ptrace",
                                                "cap_sys_pacct",
                                                "cap_sys_admin",
                                                "cap_sys_boot",
                                                "cap_sys_nice",
                                                "cap_sys_resource",
                                                "cap_sys_time",
                                                "cap_sys_tty_config",
                                                "cap_mknod",
                                                "cap_lease",
                                                "cap_audit_write",
                                                "cap_audit_control",
                                                "cap_setfcap",
                                                "cap_mac_override",
                                                "cap_mac_admin",
                                                "cap_syslog",
                                                "cap_wake_alarm",
                                                "cap_block_suspend",
                                                "cap_audit_read",
                                                "cap_perfmon",
                                                "cap_bpf",
                                                "cap_checkpoint_restore"};

// What one thread does; read by the signal handler, so plain data only.
struct ThreadDrop {
  CapabilityMask keep = 0;
  int last_cap = 0;
  bool drop_bounding = false;
};

// Async-signal-safe: raw syscalls and no allocation. Order matters: the
// bounding set and no_new_privs first (dropping the bounding set needs
// CAP_SETPCAP, which the capset below takes away).
int drop_on_this_thread(const void* argument) {
  const auto& drop = *static_cast<const ThreadDrop*>(argument);
  if (drop.drop_bounding) {
    for (int cap = 0; cap <= drop.last_cap; ++cap) {
      if (drop.keep & bit(cap)) continue;
      if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;
      if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) return errno;
    }
  }
  // Ambient capabilities would survive an execve; the agent wants none.
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) return errno;
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return errno;

  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (syscall(SYS_capget, &header, data) != 0) return errno;
  CapabilityMask permitted = (CapabilityMask{data[1].permitted} << 32 | data[0].permitted) & drop.keep;
  for (int i = 0; i < 2; ++i) {
    auto half = static_cast<uint32_t>(permitted >> (32 * i));
    data[i].permitted = half;
    data[i].effective = half;
    data[i].inheritable = 0;
  }
  if (syscall(SYS_capset, &header, data) != 0) return errno;
  return 0;
}

int last_capability() {
  std::ifstream in("/proc/sys/kernel/cap_last_cap");
  int last = CAP_LAST_CAP;
  if (!(in >> last) || last < 0 || last > 63) last = CAP_LAST_CAP;
  return last;
}

Result<CapabilitySets> read_status_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("read " + path, std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  auto sets = parse_status_capabilities(text.str());
  if (!sets) return make_error(path, sets.message());
  return sets;
}

}  // namespace

CapabilityMask runtime_capabilities(BackendChoice backend) {
  if (backend == BackendChoice::Simulator) return 0;
  return bit(CAP_BPF) | bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);
}

std::vector<std::string> capability_list(CapabilityMask mask) {
  std::vector<std::string> names;
  for (int cap = 0; cap < 64; ++cap) {
    if (!(mask & bit(cap))) continue;
    names.push_back(cap < static_cast<int>(kNames.size()) ? kNames[cap] : "cap_" + std::to_string(cap));
  }
  return names;
}

std::string capability_names(CapabilityMask mask) {
  std::string joined;
  for (const auto& name : capability_list(mask)) joined += (joined.empty() ? "" : ",") + name;
  return joined.empty() ? "(none)" : joined;
}

Result<CapabilitySets> parse_status_capabilities(const std::string& status_text) {
  CapabilitySets sets;
  int found = 0;
  std::istringstream lines(status_text);
  std::string line;
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    CapabilityMask* target = key == "CapEff"   ? &sets.effective
                             : key == "CapPrm" ? &sets.permitted
                             : key == "CapInh" ? &sets.inheritable
                             : key == "CapBnd" ? &sets.bounding
                             : key == "CapAmb" ? &sets.ambient
                                               : nullptr;
    if (target) {
      errno = 0;
      char* end = nullptr;
      *target = std::strtoull(value.c_str(), &end, 16);
      if (errno != 0 || end == value.c_str()) return Error{"cannot read the " + key + " line '" + line + "'"};
      ++found;
    } else if (key == "NoNewPrivs") {
      sets.no_new_privs = value.find('1') != std::string::npos;
    }
  }
  if (found < 4) return Error{"no CapEff/CapPrm/CapInh/CapBnd lines in the status text"};
  return sets;
}

Result<CapabilitySets> process_capabilities() {
  CapabilitySets all;
  all.no_new_privs = true;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return make_error("list /proc/self/task", std::strerror(errno));
  size_t threads = 0;
  std::string failure;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    auto sets = read_status_file(std::string("/proc/self/task/") + entry->d_name + "/status");
    if (!sets) {
      // A thread that ended between the listing and the read has no sets.
      if (access((std::string("/proc/self/task/") + entry->d_name).c_str(), F_OK) == 0) failure = sets.message();
      continue;
    }
    ++threads;
    all.effective |= sets->effective;
    all.permitted |= sets->permitted;
    all.inheritable |= sets->inheritable;
    all.bounding |= sets->bounding;
    all.ambient |= sets->ambient;
    all.no_new_privs = all.no_new_privs && sets->no_new_privs;
  }
  closedir(dir);
  if (!failure.empty()) return Error{failure};
  if (threads == 0) return Error{"/proc/self/task lists no threads"};
  return all;
}

Result<PrivilegeReport> restrict_process_capabilities(CapabilityMask keep) {
  PrivilegeReport report;
  ThreadDrop drop;
  drop.keep = keep;
  drop.last_cap = last_capability();
  // Dropping from the bounding set needs CAP_SETPCAP. Without it (a
  // non-root user, or a systemd unit whose bounding set already holds only
  // what we keep) the bounding set stays; no_new_privs still stops execve
  // from granting anything beyond the permitted set.
  auto before = process_capabilities();
  if (!before) return make_error("read the capability sets", before.message());
  bool holds_setpcap = (before->effective & bit(CAP_SETPCAP)) != 0;
  bool bounding_has_more = (before->bounding & ~keep) != 0;
  drop.drop_bounding = holds_setpcap && bounding_has_more;
  if (bounding_has_more && !holds_setpcap) {
    report.note = "bounding set left as it was (no CAP_SETPCAP): " + capability_names(before->bounding & ~keep);
  }

  auto threads = run_on_all_threads(drop_on_this_thread, &drop);
  if (!threads) return make_error("drop capabilities", threads.message());
  auto after = process_capabilities();
  if (!after) return make_error("read the capability sets after the drop", after.message());
  if ((after->effective | after->permitted) & ~keep) {
    return Error{"capabilities still held after the drop: " +
                 capability_names((after->effective | after->permitted) & ~keep)};
  }
  if (CapabilityMask missing = keep & ~after->permitted) {
    std::string lacking = "not held from the start: " + capability_names(missing);
    report.note = report.note.empty() ? lacking : report.note + "; " + lacking;
  }
  report.restricted = true;
  report.sets = *after;
  report.threads = *threads;
  return report;
}

PrivilegeView privilege_view(const PrivilegeReport& report) {
  PrivilegeView view;
  view.restricted = report.restricted;
  view.effective = capability_list(report.sets.effective);
  view.permitted = capability_list(report.sets.permitted);
  view.bounding = capability_list(report.sets.bounding);
  view.no_new_privs = report.sets.no_new_privs;
  view.note = report.note;
  return view;
}

}  // namespace bwalloc
