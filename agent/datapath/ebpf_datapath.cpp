// The eBPF datapath: load with adoption of pinned maps, attach, policies,
// counters. See ebpf_datapath.h for the contract.
#include "agent/datapath/ebpf_datapath.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <cstdarg>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <unordered_map>

#include "agent/common/log.h"
#include "agent/datapath/datapath_state.h"
#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/link_driver.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/link_plan.h"
#include "agent/datapath/link_watcher.h"
#include "agent/datapath/map_codec.h"
#include "agent/datapath/pins.h"
#include "agent/datapath/qdisc.h"
#include "agent/datapath/slot_allocator.h"
#include "bwalloc.skel.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }

uint64_t monotonic_now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// libbpf prints every kernel refusal it expects and handles (e.g. "filter
// not found" while probing for our own filter); keep that at debug level so
// an operator sees our one-line explanations instead.
int libbpf_to_log(enum libbpf_print_level level, const char* format, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  char line[1024];
  int n = vsnprintf(line, sizeof line, format, args);
  std::string text(line);
  while (!text.empty() && text.back() == '\n') text.pop_back();
  log_debug("libbpf", text);
  return n;
}

void route_libbpf_logs() {
  static bool routed = (libbpf_set_print(libbpf_to_log), true);
  (void)routed;
}

std::string state_path(const DatapathConfig& config) { return config.state_dir + "/datapath.state"; }

// Checks a pinned map against the layout this build expects; adopts it
// (bpf_map__reuse_fd) when it matches, removes the pin with a warning when
// it does not, so a map of an older layout is never trusted.
Result<bool> adopt_pinned_map(bpf_map* map, const std::string& pin) {
  if (!path_exists(pin)) return false;
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) {
    log_warn(kLog, "pin " + pin + " is not a map we can open (" + errno_text(errno) + "); replacing it");
    unlink(pin.c_str());
    return false;
  }
  MapLayout expected{bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map)};
  auto found = pinned_map_layout(fd);
  std::optional<std::string> mismatch;
  if (!found) {
    mismatch = found.message();
  } else {
    std::optional<uint32_t> version;
    if (std::string(bpf_map__name(map)) == "bwa_settings") {
      // A settings map we cannot read counts as layout version 0: never trusted.
      bwa_settings settings{};
      uint32_t zero = 0;
      version = bpf_map_lookup_elem(fd, &zero, &settings) == 0 ? settings.layout_version : 0;
    }
    mismatch = layout_mismatch(expected, *found, version);
  }
  if (mismatch) {
    log_warn(kLog, "pinned map " + pin + " does not match this build (" + *mismatch + "; expected " +
                       describe(expected) + ", layout version " + std::to_string(BWA_LAYOUT_VERSION) +
                       "); replacing it, its contents are lost");
    close(fd);
    unlink(pin.c_str());
    return false;
  }
  int reused = bpf_map__reuse_fd(map, fd);
  close(fd);
  if (reused != 0) return make_error("adopt pinned map " + pin, errno_text(reused));
  return true;
}

Result<int> interface_index(const std::string& name, const char* role) {
  if (name.empty() || name.size() >= IF_NAMESIZE) return Error{std::string(role) + " interface name '" + name + "' is not valid"};
  unsigned index = if_nametoindex(name.c_str());
  if (index == 0) return Error{std::string(role) + " interface " + name + " does not exist (" + errno_text(errno) + ")"};
  return static_cast<int>(index);
}

// A foreign XDP program on the interface: we never replace it, whatever the
// configured mode, and count on tc ingress instead.
bool foreign_xdp_attached(int ifindex) {
  XdpAttachment existing = query_xdp(ifindex);
  return existing.attached && !is_bwalloc_program(existing.program_id);
}

// Entries of the counter LRU for a policy map of `max_devices`. The kernel's
// common LRU keeps up to LOCAL_FREE_TARGET (128) free entries per possible
// CPU on local lists (fewer for small maps on recent kernels) and evicts to refill
// them, so an LRU of exactly max_devices entries evicted devices that have a
// policy (a 16-entry map kept 11 of 16 pinging devices) and with them their
// counts. The reserve on top, plus a quarter for addresses without a policy
// (devices over capacity, link-local, multicast), keeps every device counted.
uint32_t counter_map_entries(uint32_t max_devices) {
  const uint64_t cpus = static_cast<uint64_t>(std::max(1, libbpf_num_possible_cpus()));
  const uint64_t entries = uint64_t{max_devices} + max_devices / 4 + 128 * cpus;
  return static_cast<uint32_t>(std::min<uint64_t>(entries, UINT32_MAX));
}

// sch_fq missing shows as "unknown qdisc kind": EINVAL, or ENOENT when the
// kernel tried and failed to load the module.
bool is_missing_qdisc_kind(const std::string& message) {
  return message.find(std::strerror(EINVAL)) != std::string::npos ||
         message.find(std::strerror(ENOENT)) != std::string::npos;
}
}  // namespace

struct EbpfDatapath::Impl {
  DatapathConfig config;
  bwalloc_bpf* skel = nullptr;
  int lan_ifindex = 0;
  int wan_ifindex = 0;
  XdpAttachment xdp;
  std::string xdp_note;
  bool pacing_active = false;
  std::string pacing_note;
  SlotAllocator slots{BWA_MAX_SLOTS};
  std::unordered_map<IpAddress, DevicePolicy> applied;
  // Policies the full policy map could not take, retried with every
  // apply_policies call (a device may have left meanwhile).
  std::unordered_map<IpAddress, DevicePolicy> over_capacity;
  // Interface following (maintain_interfaces): link notifications, plus a
  // check each second for programs another tool removed without a link event.
  std::optional<LinkWatcher> link_watcher;
  std::chrono::steady_clock::time_point next_link_check{};
  uint64_t reattachments = 0;

  ~Impl() {
    // Destroying the skeleton closes our fds only: the pins keep maps and
    // the XDP link alive and tc filters hold their programs, so shaping
    // goes on while no agent runs.
    if (skel) bwalloc_bpf__destroy(skel);
  }

  MapFds map_fds() const {
    return MapFds{bpf_map__fd(skel->maps.bwa_counters), bpf_map__fd(skel->maps.bwa_policy),
                  bpf_map__fd(skel->maps.bwa_edt),      bpf_map__fd(skel->maps.bwa_slot_addr),
                  bpf_map__fd(skel->maps.bwa_ports),    bpf_map__fd(skel->maps.bwa_settings),
                  bpf_map__fd(skel->maps.bwa_global),   bpf_map__fd(skel->maps.bwa_flows)};
  }

  Result<void> write_settings() {
    bwa_settings settings{};
    // With fq the horizon bounds queueing delay; without it packets leave at
    // once whatever their timestamp, so the horizon is only a policer burst.
    settings.horizon_ns = pacing_active ? config.horizon_ns : std::max(config.horizon_ns, config.policer_burst_ns);
    settings.ce_target_ns = config.ce_target_ns;
    settings.flags = (config.ecn ? BWA_SETTING_ECN : 0u) | (xdp.attached ? 0u : BWA_SETTING_TC_INGRESS_COUNTS);
    settings.layout_version = BWA_LAYOUT_VERSION;
    settings.policy_generation = next_policy_generation(map_fds().settings);  // never back to an old value
    settings.fair_quanta = BWA_DEFAULT_FAIR_QUANTA;
    uint32_t zero = 0;
    if (bpf_map_update_elem(map_fds().settings, &zero, &settings, BPF_ANY) != 0) {
      return make_error("write datapath settings", errno_text(errno));
    }
    return sync_port_classes(map_fds().ports, config.priority_ports, config.unlimited_ports);
  }

  Result<void> install_pacing_qdiscs(DatapathState& state) {
    pacing_active = false;
    if (!config.install_fq) {
      pacing_note = "fq installation disabled by config (datapath.install_fq = false): limits act as policers";
      return {};
    }
    auto rtnl = RtnlSocket::open();
    if (!rtnl) return rtnl.error();
    std::vector<std::pair<std::string, int>> shaped = {{"lan", lan_ifindex}};
    if (wan_ifindex) shaped.emplace_back("wan", wan_ifindex);
    std::vector<std::string> problems;
    std::vector<std::string> without_fq;  // interfaces where the kernel lacks sch_fq
    std::string fq_error;
    for (const auto& [role, ifindex] : shaped) {
      const std::string& ifname = role == "lan" ? config.lan_interface : config.wan_interface;
      auto root = read_root_qdisc(*rtnl, ifindex);
      if (!root) return root.error();
      std::string kind = root->has_value() ? (*root)->kind : "";
      if (kind == "fq" || (kind == "mq" && (*root)->handle == kBwallocQdiscHandle)) continue;
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
      state.values["qdisc_previous." + role] = kind.empty() ? "none" : kind;
      if (root->has_value()) state.values["qdisc_previous_handle." + role] = format_qdisc_handle((*root)->handle);
      state.set_flag("qdisc_installed." + role, true);
    }
    if (!without_fq.empty()) {
      std::string names = without_fq.front();
      for (size_t i = 1; i < without_fq.size(); ++i) names += ", " + without_fq[i];
      problems.insert(problems.begin(), "sch_fq is not available in this kernel (" + names + ": " + fq_error + ")");
    }
    pacing_active = problems.empty();
    if (!pacing_active) {
      pacing_note = problems.front();
      for (size_t i = 1; i < problems.size(); ++i) pacing_note += "; " + problems[i];
      pacing_note += ": limits act as policers (the horizon is the burst, at least datapath.policer_burst)";
    } else {
      pacing_note = "fq honours EDT timestamps on every shaped interface";
    }
    return {};
  }

  // Our hooks absent from `ifindex` for a role ("xdp", "tc ingress", ...).
  std::vector<std::string> missing_hooks(const std::string& role, int ifindex) const {
    std::vector<std::string> missing;
    if (role == "lan") {
      if (xdp.attached) {
        XdpAttachment now = query_xdp(ifindex);
        if (!now.attached || !is_bwalloc_program(now.program_id)) missing.push_back("xdp");
      }
      if (query_tc(ifindex, TcDirection::Ingress) == 0) missing.push_back("tc ingress");
    }
    if (query_tc(ifindex, TcDirection::Egress) == 0) missing.push_back("tc egress");
    return missing;
  }

  // Takes our programs off an interface that is no longer ours (renamed
  // away) and drops an XDP link pin left pointing at it or at nothing.
  void release_interface(const std::string& role, int old_ifindex, DatapathState& state) {
    const std::string pin = config.pin_dir + "/link_xdp_lan";
    if (role == "lan") {
      int link_fd = bpf_obj_get(pin.c_str());
      if (link_fd >= 0) {
        bpf_link_info info{};
        uint32_t len = sizeof info;
        bool stale = bpf_obj_get_info_by_fd(link_fd, &info, &len) != 0 || info.xdp.ifindex == 0 ||
                     static_cast<int>(info.xdp.ifindex) == old_ifindex;
        close(link_fd);
        if (stale) unlink(pin.c_str());  // the last reference: the kernel detaches and frees the link
      }
    }
    char name[IF_NAMESIZE] = {};
    if (if_indextoname(static_cast<unsigned>(old_ifindex), name) == nullptr) return;  // gone, filters with it
    if (role == "lan") (void)detach_tc(old_ifindex, name, TcDirection::Ingress);
    (void)detach_tc(old_ifindex, name, TcDirection::Egress);
    if (state.flag("clsact_created." + role)) {
      auto rtnl = RtnlSocket::open();
      if (rtnl) {
        auto ingress = count_tc_filters(*rtnl, old_ifindex, 0xFFFFFFF2u);
        auto egress = count_tc_filters(*rtnl, old_ifindex, 0xFFFFFFF3u);
        if (ingress && egress && *ingress + *egress == 0) (void)destroy_clsact(old_ifindex, name);
      }
      state.set_flag("clsact_created." + role, false);
    }
  }

  // Attaches a role's programs on `ifindex` the way open() decided: XDP only
  // if it was in use (falling back to tc counting if it no longer attaches).
  Result<void> attach_interface(const std::string& role, int ifindex, DatapathState& state) {
    const std::string& ifname = role == "lan" ? config.lan_interface : config.wan_interface;
    std::vector<std::pair<bpf_program*, TcDirection>> tc;
    if (role == "lan") {
      if (xdp.attached) {
        auto attached = attach_xdp(bpf_program__fd(skel->progs.bwa_xdp_ingress), ifindex, ifname,
                                   config.ingress_mode, config.pin_dir + "/link_xdp_lan");
        if (attached) {
          xdp = *attached;
        } else {
          xdp = XdpAttachment{};
          xdp_note = attached.message() + "; tc ingress counts instead";
          log_warn(kLog, xdp_note);
          if (auto settings = write_settings(); !settings) return settings.error();
        }
      }
      tc = {{skel->progs.bwa_tc_ingress, TcDirection::Ingress}, {skel->progs.bwa_tc_egress, TcDirection::Egress}};
    } else {
      tc = {{skel->progs.bwa_tc_wan_egress, TcDirection::Egress}};
    }
    for (const auto& [program, direction] : tc) {
      bool created_clsact = false;
      auto attached = attach_tc(bpf_program__fd(program), ifindex, ifname, direction, created_clsact);
      if (created_clsact) state.set_flag("clsact_created." + role, true);
      if (!attached) return attached.error();
    }
    (role == "lan" ? lan_ifindex : wan_ifindex) = ifindex;
    return install_pacing_qdiscs(state);
  }

  std::vector<DatapathNotice> follow_interfaces() {
    std::vector<DatapathNotice> notices;
    std::optional<DatapathState> state;
    for (const std::string role : {"lan", "wan"}) {
      const std::string& name = role == "lan" ? config.lan_interface : config.wan_interface;
      if (name.empty()) continue;
      int& attached = role == "lan" ? lan_ifindex : wan_ifindex;
      LinkObservation seen;
      seen.name = name;
      seen.current_ifindex = static_cast<int>(if_nametoindex(name.c_str()));
      seen.attached_ifindex = attached;
      char now_named[IF_NAMESIZE] = {};
      if (attached != 0 && if_indextoname(static_cast<unsigned>(attached), now_named)) seen.attached_now_name = now_named;
      if (seen.current_ifindex != 0 && seen.current_ifindex == attached) {
        seen.missing_hooks = missing_hooks(role, attached);
      }
      LinkPlan plan = plan_link(seen);
      if (!plan.release_old && !plan.attach) continue;
      if (!state) {
        auto loaded = load_datapath_state(state_path(config));
        state = loaded ? *loaded : DatapathState{};
      }
      if (plan.release_old) {
        release_interface(role, attached, *state);
        attached = 0;
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
      if (auto saved = save_datapath_state(state_path(config), *state); !saved) log_warn(kLog, saved.message());
    }
    return notices;
  }

  Result<void> restore_slots() {
    auto policies = read_all_policies(map_fds().policy);
    if (!policies) return policies.error();
    for (const auto& [ip, p] : *policies) {
      if (!slots.restore(ip, p.slot)) {
        log_warn(kLog, "adopted policy of " + ip.to_string() + " has an unusable slot " + std::to_string(p.slot) +
                           "; it gets a new one");
        continue;
      }
      applied[ip] = decode_policy(ip, p);
    }
    return {};
  }
};

EbpfDatapath::EbpfDatapath(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
EbpfDatapath::~EbpfDatapath() = default;

Result<std::unique_ptr<EbpfDatapath>> EbpfDatapath::open(const DatapathConfig& config) {
  route_libbpf_logs();
  auto impl = std::make_unique<Impl>();
  impl->config = config;

  auto lan = interface_index(config.lan_interface, "LAN");
  if (!lan) return lan.error();
  impl->lan_ifindex = *lan;
  if (!config.wan_interface.empty()) {
    auto wan = interface_index(config.wan_interface, "WAN");
    if (!wan) return wan.error();
    impl->wan_ifindex = *wan;
  }
  if (auto pins = prepare_pin_dir(config.pin_dir); !pins) return pins.error();
  if (mkdir(config.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("create state directory " + config.state_dir, errno_text(errno));
  }
  auto state = load_datapath_state(state_path(config));
  if (!state) return state.error();

  impl->skel = bwalloc_bpf__open();
  if (!impl->skel) return make_error("open BPF object", errno_text(errno));
  auto* skel = impl->skel;
  bpf_map__set_max_entries(skel->maps.bwa_counters, counter_map_entries(config.max_devices));
  bpf_map__set_max_entries(skel->maps.bwa_policy, config.max_devices);

  for (const char* name : kRetiredMapNames) unlink((config.pin_dir + "/" + name).c_str());
  bool adopted_any = false;
  for (bpf_map* map : owned_maps(skel->obj)) {
    auto adopted = adopt_pinned_map(map, config.pin_dir + "/" + bpf_map__name(map));
    if (!adopted) return adopted.error();
    adopted_any = adopted_any || *adopted;
  }
  if (int loaded = bwalloc_bpf__load(skel); loaded != 0) {
    return make_error("load BPF programs (is this kernel built with BPF and BTF? are we root?)", errno_text(loaded));
  }
  for (bpf_map* map : owned_maps(skel->obj)) {
    std::string pin = config.pin_dir + "/" + bpf_map__name(map);
    if (path_exists(pin)) continue;  // adopted
    if (int pinned = bpf_map__pin(map, pin.c_str()); pinned != 0) {
      return make_error("pin map at " + pin, errno_text(pinned));
    }
    chmod(pin.c_str(), 0600);
  }
  if (adopted_any) {
    if (auto restored = impl->restore_slots(); !restored) return restored.error();
    log_info(kLog, "adopted pinned maps from " + config.pin_dir + " (" + std::to_string(impl->applied.size()) +
                       " policies kept)");
  }

  // XDP first: the settings written below tell tc ingress whether it must count.
  const std::string xdp_pin = config.pin_dir + "/link_xdp_lan";
  const bool lan_is_veth = link_driver(config.lan_interface) == "veth";
  if (config.ingress_mode == IngressAttachMode::TcOnly) {
    unlink(xdp_pin.c_str());
    impl->xdp_note = "XDP disabled by config (datapath.ingress_mode = \"tc\"): tc ingress counts";
  } else if (config.ingress_mode == IngressAttachMode::Auto && lan_is_veth) {
    // veth's XDP path gives up GRO and copies every GSO packet, which cost
    // 80 % of upload forwarding in bench/shaping_bench; tc sees the same bytes.
    unlink(xdp_pin.c_str());
    impl->xdp_note = "XDP skipped on " + config.lan_interface +
                     " (a veth: its XDP path costs more than tc); tc ingress counts (datapath.ingress_mode = "
                     "\"xdp-native\" forces XDP)";
    log_info(kLog, impl->xdp_note);
  } else {
    auto xdp = attach_xdp(bpf_program__fd(skel->progs.bwa_xdp_ingress), impl->lan_ifindex, config.lan_interface,
                          config.ingress_mode, xdp_pin);
    if (xdp) {
      impl->xdp = *xdp;
    } else if (config.ingress_mode == IngressAttachMode::Auto || foreign_xdp_attached(impl->lan_ifindex)) {
      impl->xdp_note = xdp.message() + "; tc ingress counts instead";
      log_warn(kLog, impl->xdp_note);
    } else {
      return xdp.error();
    }
  }
  if (auto settings = impl->write_settings(); !settings) return settings.error();

  struct TcAttach {
    bpf_program* program;
    int ifindex;
    const std::string& ifname;
    TcDirection direction;
    const char* role;
  };
  std::vector<TcAttach> tc = {
      {skel->progs.bwa_tc_ingress, impl->lan_ifindex, config.lan_interface, TcDirection::Ingress, "lan"},
      {skel->progs.bwa_tc_egress, impl->lan_ifindex, config.lan_interface, TcDirection::Egress, "lan"}};
  if (impl->wan_ifindex) {
    tc.push_back({skel->progs.bwa_tc_wan_egress, impl->wan_ifindex, config.wan_interface, TcDirection::Egress, "wan"});
  }
  for (const auto& attach : tc) {
    bool created_clsact = false;
    auto attached = attach_tc(bpf_program__fd(attach.program), attach.ifindex, attach.ifname, attach.direction,
                              created_clsact);
    if (created_clsact) state->set_flag(std::string("clsact_created.") + attach.role, true);
    if (!attached) {
      (void)save_datapath_state(state_path(config), *state);
      return attached.error();
    }
  }
  if (auto qdiscs = impl->install_pacing_qdiscs(*state); !qdiscs) return qdiscs.error();
  if (!impl->pacing_active) log_warn(kLog, impl->pacing_note);
  if (auto settings = impl->write_settings(); !settings) return settings.error();  // pacing now known
  if (auto saved = save_datapath_state(state_path(config), *state); !saved) return saved.error();

  log_info(kLog, "attached to " + config.lan_interface +
                     (impl->xdp.attached ? " (XDP " + impl->xdp.mode + ")" : " (tc ingress)") +
                     (impl->wan_ifindex ? " and " + config.wan_interface : std::string()));
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
  return read_all_counters(impl_->map_fds().counters, monotonic_now_ns());
}

Result<void> EbpfDatapath::apply_policies(const std::vector<DevicePolicy>& requested) {
  MapFds fds = impl_->map_fds();
  PolicyGenerationBump bump(fds.settings);  // the programs' policy copies expire on every way out
  std::vector<DevicePolicy> policies;
  for (const auto& [address, waiting] : impl_->over_capacity) {
    bool superseded = std::any_of(requested.begin(), requested.end(),
                                  // clang 14 cannot capture a structured binding; an init-capture can.
                                  [&address = address](const DevicePolicy& p) { return p.address == address; });
    if (!superseded) policies.push_back(waiting);
  }
  policies.insert(policies.end(), requested.begin(), requested.end());
  for (const DevicePolicy& wanted : policies) {
    auto known = impl_->applied.find(wanted.address);
    if (known != impl_->applied.end() && known->second == wanted) continue;

    bool had_slot = impl_->slots.slot_of(wanted.address).has_value();
    auto slot = impl_->slots.assign(wanted.address);
    if (!slot) {
      return Error{"no free shaping slot for " + wanted.address.to_string() + " (all " +
                   std::to_string(BWA_MAX_SLOTS - 1) + " in use)"};
    }
    if (!had_slot) {
      // Slot map and pacing clocks first, so WAN egress never pairs a
      // fresh policy with the previous owner's address or clock.
      bwa_addr addr = to_bwa_addr(wanted.address);
      bwa_edt_state reset{};
      uint32_t up = *slot * 2 + BWA_DIR_UP, down = *slot * 2 + BWA_DIR_DOWN;
      if (bpf_map_update_elem(fds.slot_addr, &*slot, &addr, BPF_ANY) != 0 ||
          bpf_map_update_elem(fds.edt, &up, &reset, BPF_ANY) != 0 ||
          bpf_map_update_elem(fds.edt, &down, &reset, BPF_ANY) != 0) {
        return make_error("write slot of " + wanted.address.to_string(), errno_text(errno));
      }
    }
    bwa_policy value = encode_policy(wanted, *slot);
    bwa_addr key = to_bwa_addr(wanted.address);
    int written = bpf_map_update_elem(fds.policy, &key, &value, BPF_ANY) == 0 ? 0 : errno;
    if (written == E2BIG && wanted.priority == Priority::Blocked) {
      // A block must hold: it takes the place of a device that is only
      // limited, which then goes unshaped (and is reported) instead.
      auto victim = std::find_if(impl_->applied.begin(), impl_->applied.end(),
                                 [](const auto& entry) { return entry.second.priority != Priority::Blocked; });
      if (victim != impl_->applied.end()) {
        DevicePolicy displaced = victim->second;
        if (auto removed = remove_policy(displaced.address); removed) {
          impl_->over_capacity[displaced.address] = displaced;
          log_warn(kLog, "policy map full (datapath.max_devices = " + std::to_string(impl_->config.max_devices) +
                             "): " + displaced.address.to_string() + " loses its limit so the block of " +
                             wanted.address.to_string() + " holds");
          slot = impl_->slots.assign(wanted.address);
          if (!slot) return Error{"no free shaping slot for " + wanted.address.to_string()};
          value = encode_policy(wanted, *slot);
          written = bpf_map_update_elem(fds.policy, &key, &value, BPF_ANY) == 0 ? 0 : errno;
        }
      }
    }
    if (written == E2BIG) {
      // Full: the device is still counted and forwarded, just not limited.
      // Reported in the status (devices_over_capacity), retried each call.
      if (!impl_->over_capacity.contains(wanted.address)) {
        log_warn(kLog, "policy map full (datapath.max_devices = " + std::to_string(impl_->config.max_devices) +
                           "): " + wanted.address.to_string() + " is counted but not " +
                           (wanted.priority == Priority::Blocked ? "blocked" : "limited") +
                           "; raise datapath.max_devices");
      }
      impl_->over_capacity[wanted.address] = wanted;
      if (!had_slot) impl_->slots.release(wanted.address);
      continue;
    }
    if (written != 0) return make_error("write policy of " + wanted.address.to_string(), errno_text(written));
    impl_->over_capacity.erase(wanted.address);
    impl_->applied[wanted.address] = wanted;
  }
  return {};
}

Result<void> EbpfDatapath::remove_policy(const IpAddress& address) {
  PolicyGenerationBump bump(impl_->map_fds().settings);
  bwa_addr key = to_bwa_addr(address);
  if (bpf_map_delete_elem(impl_->map_fds().policy, &key) != 0 && errno != ENOENT) {
    return make_error("remove policy of " + address.to_string(), errno_text(errno));
  }
  if (auto slot = impl_->slots.slot_of(address)) {
    // A freed slot points nowhere until its next owner writes it, so WAN
    // egress never shapes a stale mark as the old device.
    bwa_addr nowhere{};
    if (bpf_map_update_elem(impl_->map_fds().slot_addr, &*slot, &nowhere, BPF_ANY) != 0) {
      return make_error("clear slot of " + address.to_string(), errno_text(errno));
    }
  }
  impl_->slots.release(address);
  impl_->applied.erase(address);
  impl_->over_capacity.erase(address);
  return {};
}

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
  DatapathStatus status = collect_status(impl_->config, impl_->map_fds());
  status.pacing_active = impl_->pacing_active;
  status.pacing_note = impl_->pacing_note;
  if (!impl_->xdp_note.empty()) status.pacing_note += "; " + impl_->xdp_note;
  for (const std::string role : {"lan", "wan"}) {
    const std::string& name = role == "lan" ? impl_->config.lan_interface : impl_->config.wan_interface;
    if (name.empty()) continue;
    int ifindex = static_cast<int>(if_nametoindex(name.c_str()));
    int attached = role == "lan" ? impl_->lan_ifindex : impl_->wan_ifindex;
    bool complete = ifindex != 0 && ifindex == attached && impl_->missing_hooks(role, ifindex).empty();
    status.interfaces.push_back(InterfaceStatus{role, name, ifindex, complete});
  }
  status.interface_reattachments = impl_->reattachments;
  status.devices_over_capacity = impl_->over_capacity.size();
  return status;
}

Result<DatapathStatus> read_pinned_status(const DatapathConfig& config) {
  route_libbpf_logs();
  auto fds = open_pinned_maps(config.pin_dir);
  if (!fds) return fds.error();
  DatapathStatus status = collect_status(config, *fds);
  close_map_fds(*fds);
  auto pacing = describe_pacing(config);
  status.pacing_active = pacing.first;
  status.pacing_note = pacing.second;
  return status;
}

Result<void> detach_datapath(const DatapathConfig& config) {
  route_libbpf_logs();
  auto state = load_datapath_state(state_path(config));
  if (!state) return state.error();
  std::vector<std::string> problems;
  auto note = [&](const Result<void>& r) {
    if (!r) problems.push_back(r.message());
  };

  unlink((config.pin_dir + "/link_xdp_lan").c_str());  // the last reference: the kernel detaches it

  auto rtnl = RtnlSocket::open();
  if (!rtnl) return rtnl.error();
  struct Role {
    const char* name;
    const std::string& ifname;
  };
  for (const Role& role : {Role{"lan", config.lan_interface}, Role{"wan", config.wan_interface}}) {
    if (role.ifname.empty()) continue;
    unsigned ifindex = if_nametoindex(role.ifname.c_str());
    if (ifindex == 0) continue;  // the interface is gone, and our filters with it
    int index = static_cast<int>(ifindex);
    note(detach_tc(index, role.ifname, TcDirection::Ingress));
    note(detach_tc(index, role.ifname, TcDirection::Egress));
    if (state->flag(std::string("clsact_created.") + role.name)) {
      auto ingress = count_tc_filters(*rtnl, index, 0xFFFFFFF2u);
      auto egress = count_tc_filters(*rtnl, index, 0xFFFFFFF3u);
      if (ingress && egress && *ingress + *egress == 0) {
        note(destroy_clsact(index, role.ifname));
      } else {
        log_info(kLog, "clsact on " + role.ifname + " still holds other tools' filters; left in place");
      }
    }
    if (state->flag(std::string("qdisc_installed.") + role.name)) {
      auto root = read_root_qdisc(*rtnl, index);
      if (root && root->has_value() &&
          ((*root)->kind == "fq" || ((*root)->kind == "mq" && (*root)->handle == kBwallocQdiscHandle))) {
        note(delete_root_qdisc(*rtnl, index));
      }
    }
  }
  for (const char* name : kMapNames) unlink((config.pin_dir + "/" + name).c_str());
  for (const char* name : kRetiredMapNames) unlink((config.pin_dir + "/" + name).c_str());
  if (rmdir(config.pin_dir.c_str()) != 0 && errno != ENOENT) {
    problems.push_back("remove pin directory " + config.pin_dir + ": " + errno_text(errno) +
                       " (it holds pins bwalloc did not make)");
  }
  unlink(state_path(config).c_str());
  if (!problems.empty()) {
    std::string all = problems.front();
    for (size_t i = 1; i < problems.size(); ++i) all += "; " + problems[i];
    return Error{"detach: " + all};
  }
  return {};
}

}  // namespace bwalloc
