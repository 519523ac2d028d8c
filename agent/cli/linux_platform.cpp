// See linux_platform.h.
#include "agent/cli/linux_platform.h"

#include <pthread.h>

#include "agent/common/log.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/datapath/pins.h"
#include "agent/fallback/linux_fallback.h"
#include "agent/runtime/lifecycle_messages.h"
#include "agent/runtime/netns.h"
#include "agent/runtime/privileges.h"
#include "agent/runtime/router_addresses.h"

namespace bwalloc {

namespace {
// The datapath `agent.backend` asks for: eBPF, the pcap fallback, or eBPF
// with the fallback when it cannot be loaded ("auto").
Result<std::unique_ptr<Datapath>> open_kernel_datapath(const Config& config) {
  if (config.backend == BackendChoice::Pcap) return open_pcap_datapath(config.datapath);
  auto ebpf = EbpfDatapath::open(config.datapath);
  if (ebpf) return std::unique_ptr<Datapath>(std::move(*ebpf));
  if (config.backend != BackendChoice::Auto) return make_error("cannot attach the eBPF datapath", ebpf.message());
  if (std::string refusal = foreign_pin_dir_refusal(config.datapath.pin_dir); !refusal.empty()) {
    return make_error("cannot attach the eBPF datapath", refusal);
  }
  log_warn("agent", "eBPF datapath unavailable (" + ebpf.message() +
                        "); falling back to pcap counting with tc shaping on " + config.datapath.lan_interface);
  auto pcap = open_pcap_datapath(config.datapath);
  if (!pcap) {
    return Error{"cannot attach the eBPF datapath (" + ebpf.message() + ") nor the pcap fallback (" + pcap.message() +
                 ")"};
  }
  return pcap;
}
}  // namespace

void LinuxPlatform::prepare_stop_signals() {
  // Signals go to sigwait on the main thread only: block them before any
  // thread starts, so every thread inherits the mask.
  sigemptyset(&stop_signals_);
  sigaddset(&stop_signals_, SIGINT);
  sigaddset(&stop_signals_, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals_, nullptr);
}

Result<void> LinuxPlatform::in_router_namespace(const std::function<Result<void>()>& work) {
  auto ns = NetnsSwitch::enter(netns_);
  if (!ns) return ns.error();
  return work();
}

Result<KernelParts> LinuxPlatform::open_kernel_parts(const Config& config) {
  KernelParts parts;
  auto opened = open_kernel_datapath(config);
  if (!opened) return opened.error();
  parts.datapath = std::move(*opened);
  auto found = Discovery::open(config.datapath.lan_interface, config.discovery.oui_file,
                               config.discovery.dnsmasq_leases, config.discovery.reverse_dns);
  if (found) {
    parts.discovery = std::move(*found);
  } else {
    log_warn("agent", found.message() + "; Scan LAN is unavailable");
  }
  parts.prober = std::make_unique<GatewayProber>(config.metrics.gateway, config.metrics.probe_interval);
  parts.prober->start();
  // Only the kernel's counters outlive the agent; a restart resumes them.
  if (parts.datapath->status().backend == Backend::Ebpf) {
    parts.counter_baseline_path = config.datapath.state_dir + "/counters.baseline";
  }
  // Read on the tick thread, so in the router's namespace.
  parts.router_addresses = [] {
    auto own = read_router_addresses();
    if (!own) log_warn("agent", own.message());
    return own ? *own : std::vector<IpAddress>{};
  };
  return parts;
}

Result<PrivilegeView> LinuxPlatform::restrict_privileges(const Config& config) {
  auto privileges = restrict_process_capabilities(runtime_capabilities(config.backend));
  if (!privileges) {
    return Error{"cannot drop the capabilities start-up needed: " + privileges.message() +
                 " (the agent does not run with more than it needs)"};
  }
  log_info("agent", "kept capabilities: " + capability_names(privileges->sets.effective) + " (bounding set " +
                        capability_names(privileges->sets.bounding) + ", no_new_privs, " +
                        std::to_string(privileges->threads) + " threads)");
  if (!privileges->note.empty()) log_warn("agent", "privileges: " + privileges->note);
  return privilege_view(*privileges);
}

std::string LinuxPlatform::wait_for_stop() {
  int signal_number = 0;
  sigwait(&stop_signals_, &signal_number);
  return signal_number == SIGINT ? "SIGINT" : "SIGTERM";
}

std::string LinuxPlatform::stopping_message(std::string_view stopped_by, Backend backend) const {
  return bwalloc::stopping_message(stopped_by, backend);
}

}  // namespace bwalloc
