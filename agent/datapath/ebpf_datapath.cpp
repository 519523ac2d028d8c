// EbpfDatapath: wires the datapath's parts together (see ebpf_datapath.h for
// the contract). Each part has its own file: bpf_object (load and adopt
// pins), ingress_plan (XDP or tc), interface_hooks and role (what goes on
// which interface), pacing_qdiscs (fq), datapath_settings, policy_table and
// capacity_plan (policies, slots, a full map), datapath_status,
// datapath_detach.
#include "agent/datapath/ebpf_datapath.h"

#include <net/if.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <utility>

#include "agent/common/log.h"
#include "agent/datapath/bpf_object.h"
#include "agent/datapath/datapath_settings.h"
#include "agent/datapath/datapath_state.h"
#include "agent/datapath/datapath_status.h"
#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/ingress_plan.h"
#include "agent/datapath/interface_hooks.h"
#include "agent/datapath/libbpf_log.h"
#include "agent/datapath/link_driver.h"
#include "agent/datapath/link_plan.h"
#include "agent/datapath/link_watcher.h"
#include "agent/datapath/pacing_qdiscs.h"
#include "agent/datapath/pins.h"
#include "agent/datapath/policy_table.h"
#include "agent/datapath/role.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

uint64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

Result<int> interface_index(const std::string& name, Role role) {
  const std::string label = hooks_of(role).label;
  if (name.empty() || name.size() >= IF_NAMESIZE) return Error{label + " interface name '" + name + "' is not valid"};
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) return Error{label + " interface " + name + " does not exist (" + errno_text(errno) + ")"};
  return static_cast<int>(index);
}

// A foreign XDP program on the interface: we never replace it, whatever the
// configured mode, and count on tc ingress instead.
bool foreign_xdp_attached(int ifindex) {
  XdpAttachment existing = query_xdp(ifindex);
  return existing.attached && !is_bwalloc_program(existing.program_id);
}
}  // namespace

struct EbpfDatapath::Impl {
  Impl(const DatapathConfig& config, BpfObject object)
      : config(config), object(std::move(object)), policies(this->object.map_fds(), config.max_devices) {}

  DatapathConfig config;
  BpfObject object;
  PolicyTable policies;
  PerRole<int> attached;  // where each role's programs are, 0 = nowhere
  XdpAttachment xdp;      // attached: XDP counts LAN ingress, else tc does
  std::string xdp_note;
  Pacing pacing;
  // Interface following (maintain_interfaces): link notifications, plus a
  // check each second for programs another tool removed without a link event.
  std::optional<LinkWatcher> link_watcher;
  std::chrono::steady_clock::time_point next_link_check{};
  uint64_t reattachments = 0;

  std::string xdp_link_pin() const { return pin_path(config.pin_dir, hooks_of(Role::Lan).xdp_link_pin); }
  int xdp_program_fd() const { return object.program_fd(hooks_of(Role::Lan).xdp_program); }

  Result<void> write_settings() {
    return bwalloc::write_settings(object.map_fds(), config, pacing.active, xdp.attached);
  }

  Result<void> install_pacing(DatapathState& state) {
    pacing.active = false;
    auto installed = install_pacing_qdiscs(config, attached, state);
    if (!installed) return installed.error();
    pacing = std::move(*installed);
    return {};
  }

  // Attaches a role's programs on `ifindex` the way open() decided: XDP only
  // if it was in use (falling back to tc counting if it no longer attaches).
  Result<void> attach_interface(Role role, int ifindex, DatapathState& state) {
    if (hooks_of(role).xdp_program && xdp.attached) {
      auto again =
          attach_xdp(xdp_program_fd(), ifindex, interface_of(config, role), config.ingress_mode, xdp_link_pin());
      if (again) {
        xdp = *again;
      } else {
        xdp = XdpAttachment{};
        xdp_note = again.message() + "; tc ingress counts instead";
        log_warn(kLog, xdp_note);
        if (auto settings = write_settings(); !settings) return settings.error();
      }
    }
    if (auto tc = attach_tc_hooks(object, config, role, ifindex, state); !tc) return tc.error();
    attached[role] = ifindex;
    return install_pacing(state);
  }

  // Observes each configured interface, plans with plan_link, acts.
  std::vector<DatapathNotice> follow_interfaces() {
    std::vector<DatapathNotice> notices;
    std::optional<DatapathState> state;
    for (Role role : kRoles) {
      const std::string& name = interface_of(config, role);
      if (name.empty()) continue;
      LinkObservation seen = observe_link(role, name, attached[role], xdp.attached);
      LinkPlan plan = plan_link(seen);
      if (!plan.release_old && !plan.attach) continue;
      if (!state) {
        auto loaded = load_datapath_state(datapath_state_path(config));
        state = loaded ? *loaded : DatapathState{};
      }
      if (plan.release_old) {
        release_interface(role, attached[role], config.pin_dir, *state);
        attached[role] = 0;
      }
      DatapathNotice notice{plan.problem, plan.message};
      if (plan.attach) {
        auto done = attach_interface(role, seen.current_ifindex, *state);
        if (done) {
          ++reattachments;
        } else {
          notice = {true, name + ": re-attaching failed: " + done.message() + " (retried each second)"};
        }
      }
      (notice.problem ? log_warn : log_info)(kLog, notice.message);
      notices.push_back(std::move(notice));
    }
    if (state) {
      if (auto saved = save_datapath_state(datapath_state_path(config), *state); !saved)
        log_warn(kLog, saved.message());
    }
    return notices;
  }

  // open()'s ingress decision: XDP when the plan says so and it attaches,
  // else tc ingress counts. An error only when XDP was asked for by mode
  // and fails for a reason other than another tool's XDP program.
  Result<void> choose_ingress() {
    IngressPlan plan = plan_ingress(config.ingress_mode, config.lan_interface, link_driver(config.lan_interface));
    if (!plan.try_xdp) {
      unlink(xdp_link_pin().c_str());
      xdp_note = plan.note;
      if (plan.log_note) log_info(kLog, xdp_note);
      return {};
    }
    auto attached_xdp =
        attach_xdp(xdp_program_fd(), attached[Role::Lan], config.lan_interface, config.ingress_mode, xdp_link_pin());
    if (attached_xdp) {
      xdp = *attached_xdp;
    } else if (config.ingress_mode == IngressAttachMode::Auto || foreign_xdp_attached(attached[Role::Lan])) {
      xdp_note = attached_xdp.message() + "; tc ingress counts instead";
      log_warn(kLog, xdp_note);
    } else {
      return attached_xdp.error();
    }
    return {};
  }

  DatapathFacts facts() const {
    return DatapathFacts{pacing, xdp_note, xdp.attached, attached, reattachments, policies.over_capacity()};
  }
};

EbpfDatapath::EbpfDatapath(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EbpfDatapath::~EbpfDatapath() = default;

Result<std::unique_ptr<EbpfDatapath>> EbpfDatapath::open(const DatapathConfig& config) {
  route_libbpf_logs();
  PerRole<int> ifindex;
  for (Role role : kRoles) {
    if (role != Role::Lan && interface_of(config, role).empty()) continue;  // the WAN is optional
    auto found = interface_index(interface_of(config, role), role);
    if (!found) return found.error();
    ifindex[role] = *found;
  }
  if (auto pins = prepare_pin_dir(config.pin_dir); !pins) return pins.error();
  if (mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("create state directory " + config.state_dir, errno_text(errno));
  }
  auto state = load_datapath_state(datapath_state_path(config));
  if (!state) return state.error();

  auto object = BpfObject::load(config);
  if (!object) return object.error();
  auto impl = std::make_unique<Impl>(config, std::move(*object));
  impl->attached = ifindex;
  if (impl->object.adopted_pins()) {
    if (auto restored = impl->policies.restore(); !restored) return restored.error();
    log_info(kLog, "adopted pinned maps from " + config.pin_dir + " (" + std::to_string(impl->policies.held()) +
                       " policies kept)");
  }

  // XDP first: the settings written below tell tc ingress whether it must count.
  if (auto ingress = impl->choose_ingress(); !ingress) return ingress.error();
  if (auto settings = impl->write_settings(); !settings) return settings.error();
  for (Role role : kRoles) {
    if (impl->attached[role] == 0) continue;
    if (auto tc = attach_tc_hooks(impl->object, config, role, impl->attached[role], *state); !tc) {
      (void)save_datapath_state(datapath_state_path(config), *state);
      return tc.error();
    }
  }
  if (auto qdiscs = impl->install_pacing(*state); !qdiscs) return qdiscs.error();
  if (!impl->pacing.active) log_warn(kLog, impl->pacing.note);
  if (auto settings = impl->write_settings(); !settings) return settings.error();  // pacing now known
  if (auto saved = save_datapath_state(datapath_state_path(config), *state); !saved) return saved.error();

  log_info(kLog, "attached to " + config.lan_interface +
                     (impl->xdp.attached ? " (XDP " + impl->xdp.mode + ")" : " (tc ingress)") +
                     (impl->attached[Role::Wan] ? " and " + config.wan_interface : std::string()));
  if (auto watcher = LinkWatcher::open(); watcher) {
    impl->link_watcher.emplace(std::move(*watcher));
  } else {
    log_warn(kLog, watcher.message() + "; interfaces are re-checked once a second instead");
  }
  return std::unique_ptr<EbpfDatapath>(new EbpfDatapath(std::move(impl)));
}

std::vector<DatapathNotice> EbpfDatapath::maintain_interfaces() {
  auto now = std::chrono::steady_clock::now();
  bool notified = impl_->link_watcher && impl_->link_watcher->changed();
  if (!notified && now < impl_->next_link_check) return {};
  impl_->next_link_check = now + std::chrono::seconds(1);
  return impl_->follow_interfaces();
}

Result<std::vector<DeviceCounters>> EbpfDatapath::read_counters() {
  return read_all_counters(impl_->object.map_fds().counters, monotonic_now_ns());
}

Result<void> EbpfDatapath::apply_policies(const std::vector<DevicePolicy>& requested) {
  return impl_->policies.apply(requested);
}

Result<void> EbpfDatapath::remove_policy(const IpAddress& address) { return impl_->policies.remove(address); }

Result<void> EbpfDatapath::update_settings(const DatapathConfig& config) {
  impl_->config.horizon_ns = config.horizon_ns;
  impl_->config.ce_target_ns = config.ce_target_ns;
  impl_->config.policer_burst_ns = config.policer_burst_ns;
  impl_->config.ecn = config.ecn;
  impl_->config.priority_ports = config.priority_ports;
  impl_->config.unlimited_ports = config.unlimited_ports;
  return impl_->write_settings();
}

DatapathStatus EbpfDatapath::status() const {
  return running_status(impl_->config, impl_->object.map_fds(), impl_->facts());
}

}  // namespace bwalloc
