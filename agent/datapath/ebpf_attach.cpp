// XDP link and tc filter attachment; see ebpf_attach.h.
#include "agent/datapath/ebpf_attach.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>
#include <unordered_map>

#include "agent/common/log.h"
#include "agent/datapath/role.h"

namespace bwalloc {

namespace {
std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

const char* hook_name(TcDirection direction) { return direction == TcDirection::Ingress ? "ingress" : "egress"; }

bpf_tc_hook make_hook(int ifindex, TcDirection direction) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = direction == TcDirection::Ingress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
  return hook;
}

bpf_tc_opts our_filter() {
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = kTcFilterHandle;
  opts.priority = kTcFilterPriority;
  return opts;
}

// Re-targets a pinned XDP link at the new program if it is alive and on the
// same interface (it goes stale when the interface is deleted and recreated).
bool replace_pinned_xdp_link(int prog_fd, int ifindex, const std::string& link_pin) {
  int link_fd = bpf_obj_get(link_pin.c_str());
  if (link_fd < 0) return false;
  bpf_link_info info{};
  uint32_t len = sizeof info;
  bool same_interface = bpf_obj_get_info_by_fd(link_fd, &info, &len) == 0 && info.type == BPF_LINK_TYPE_XDP &&
                        static_cast<int>(info.xdp.ifindex) == ifindex;
  bool replaced = same_interface && bpf_link_update(link_fd, prog_fd, nullptr) == 0;
  close(link_fd);
  if (!replaced) unlink(link_pin.c_str());  // stale: drop it and attach afresh
  return replaced;
}
}  // namespace

// Names of the programs seen so far, by id. Opening a program by id needs
// CAP_SYS_ADMIN, which the agent gives up after start-up
// (agent/runtime/privileges.h); ours are remembered from their own fds when
// attached, so the status and the foreign-XDP check keep naming them. Ids
// are not reused while the kernel runs, so a remembered name stays right.
namespace {
std::mutex program_names_mutex;
std::unordered_map<uint32_t, std::string> program_names;

void remember_program(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0 || info.id == 0) return;
  std::lock_guard lock(program_names_mutex);
  program_names[info.id] = info.name;
}
}  // namespace

uint32_t clsact_parent(TcDirection direction) {
  return TC_H_MAKE(TC_H_CLSACT, direction == TcDirection::Ingress ? TC_H_MIN_INGRESS : TC_H_MIN_EGRESS);
}

std::string tc_hook_label(TcDirection direction) { return std::string("tc ") + hook_name(direction); }

std::string program_name(uint32_t program_id) {
  if (program_id == 0) return "";
  {
    std::lock_guard lock(program_names_mutex);
    if (auto known = program_names.find(program_id); known != program_names.end()) return known->second;
  }
  int fd = bpf_prog_get_fd_by_id(program_id);
  if (fd < 0) return "";
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  std::string name;
  if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) name = info.name;
  close(fd);
  if (!name.empty()) {
    std::lock_guard lock(program_names_mutex);
    program_names[program_id] = name;
  }
  return name;
}

bool is_bwalloc_program(uint32_t program_id) { return program_name(program_id).rfind("bwa_", 0) == 0; }

std::string full_program_name(const std::string& kernel_name) {
  constexpr size_t kKernelNameMax = BPF_OBJ_NAME_LEN - 1;
  if (kernel_name.size() < kKernelNameMax) return kernel_name;
  auto cut_from = [&](const char* ours) { return ours && std::string(ours).rfind(kernel_name, 0) == 0; };
  for (Role role : kRoles) {
    const RoleHooks& hooks = hooks_of(role);
    if (cut_from(hooks.xdp_program)) return hooks.xdp_program;
    for (const TcHook& tc : hooks.tc) {
      if (cut_from(tc.program)) return tc.program;
    }
  }
  return kernel_name;
}

XdpAttachment query_xdp(int ifindex) {
  XdpAttachment result;
  bpf_xdp_query_opts opts{};
  opts.sz = sizeof opts;
  if (bpf_xdp_query(ifindex, 0, &opts) != 0) return result;
  if (opts.attach_mode == XDP_ATTACHED_DRV) {
    result = {true, "native", opts.drv_prog_id};
  } else if (opts.attach_mode == XDP_ATTACHED_SKB) {
    result = {true, "generic", opts.skb_prog_id};
  } else if (opts.attach_mode == XDP_ATTACHED_HW) {
    result = {true, "offload", opts.hw_prog_id};
  } else if (opts.attach_mode == XDP_ATTACHED_MULTI) {
    result = {true, "multi", opts.drv_prog_id ? opts.drv_prog_id : opts.skb_prog_id};
  }
  return result;
}

Result<XdpAttachment> attach_xdp(int prog_fd, int ifindex, const std::string& ifname, IngressAttachMode mode,
                                 const std::string& link_pin) {
  remember_program(prog_fd);
  if (replace_pinned_xdp_link(prog_fd, ifindex, link_pin)) return query_xdp(ifindex);

  XdpAttachment existing = query_xdp(ifindex);
  if (existing.attached) {
    std::string name = program_name(existing.program_id);
    return Error{"XDP on " + ifname + ": another program ('" + name + "', id " + std::to_string(existing.program_id) +
                 ") is attached; bwalloc does not replace it"};
  }

  struct Attempt {
    uint32_t flags;
    const char* label;
  };
  std::vector<Attempt> attempts;
  if (mode == IngressAttachMode::Auto || mode == IngressAttachMode::XdpNative) {
    attempts.push_back({XDP_FLAGS_DRV_MODE, "native"});
  }
  // Generic XDP runs on the skb like tc does but linearises it first, so
  // "auto" never picks it: tc ingress counts the same for less.
  if (mode == IngressAttachMode::XdpGeneric) {
    attempts.push_back({XDP_FLAGS_SKB_MODE, "generic"});
  }
  std::string failures;
  for (const auto& attempt : attempts) {
    bpf_link_create_opts opts{};
    opts.sz = sizeof opts;
    opts.flags = attempt.flags;
    int link_fd = bpf_link_create(prog_fd, ifindex, BPF_XDP, &opts);
    if (link_fd < 0) {
      failures += std::string(failures.empty() ? "" : "; ") + "attach XDP (" + attempt.label + ") to " + ifname + ": " +
                  errno_text(errno);
      continue;
    }
    if (bpf_obj_pin(link_fd, link_pin.c_str()) != 0) {
      int err = errno;
      close(link_fd);  // unpinned, the link dies with this fd: nothing left behind
      return make_error("pin XDP link at " + link_pin, errno_text(err));
    }
    close(link_fd);
    chmod(link_pin.c_str(), 0600);
    XdpAttachment attached = query_xdp(ifindex);
    attached.mode = attempt.label;
    return attached;
  }
  return Error{failures};
}

Result<void> attach_tc(int prog_fd, int ifindex, const std::string& ifname, TcDirection direction,
                       bool& created_clsact) {
  remember_program(prog_fd);
  bpf_tc_hook hook = make_hook(ifindex, direction);
  int created = bpf_tc_hook_create(&hook);
  if (created != 0 && created != -EEXIST) {
    return make_error("create clsact qdisc on " + ifname, errno_text(created));
  }
  created_clsact = created == 0;

  bpf_tc_opts query = our_filter();
  bool replace = false;
  if (bpf_tc_query(&hook, &query) == 0) {
    if (!is_bwalloc_program(query.prog_id)) {
      return Error{"tc " + std::string(hook_name(direction)) + " on " + ifname + ": a filter of another tool ('" +
                   program_name(query.prog_id) + "') sits at bwalloc's handle 0xb0a priority 0xb0a; not replaced"};
    }
    replace = true;
  }
  bpf_tc_opts opts = our_filter();
  opts.prog_fd = prog_fd;
  opts.flags = replace ? BPF_TC_F_REPLACE : 0;
  int attached = bpf_tc_attach(&hook, &opts);
  if (attached != 0) {
    return make_error("attach tc " + std::string(hook_name(direction)) + " program to " + ifname, errno_text(attached));
  }
  return {};
}

uint32_t query_tc(int ifindex, TcDirection direction) {
  bpf_tc_hook hook = make_hook(ifindex, direction);
  bpf_tc_opts query = our_filter();
  if (bpf_tc_query(&hook, &query) != 0) return 0;
  return query.prog_id;
}

Result<void> detach_tc(int ifindex, const std::string& ifname, TcDirection direction) {
  uint32_t id = query_tc(ifindex, direction);
  if (id == 0) return {};
  if (!is_bwalloc_program(id)) {
    log_warn("datapath", "tc " + std::string(hook_name(direction)) + " filter at bwalloc's handle on " + ifname +
                             " belongs to another tool ('" + program_name(id) + "'); left in place");
    return {};
  }
  bpf_tc_hook hook = make_hook(ifindex, direction);
  bpf_tc_opts opts = our_filter();
  int detached = bpf_tc_detach(&hook, &opts);
  if (detached != 0 && detached != -ENOENT) {
    return make_error("detach tc " + std::string(hook_name(direction)) + " program from " + ifname,
                      errno_text(detached));
  }
  return {};
}

Result<void> destroy_clsact(int ifindex, const std::string& ifname) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS);
  int destroyed = bpf_tc_hook_destroy(&hook);
  if (destroyed != 0 && destroyed != -ENOENT && destroyed != -EINVAL) {
    return make_error("remove clsact qdisc from " + ifname, errno_text(destroyed));
  }
  return {};
}

}  // namespace bwalloc
