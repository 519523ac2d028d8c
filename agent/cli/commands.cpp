// run / status / detach / demo; see commands.h.
#include "agent/cli/commands.h"

#include <limits.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <cstdio>
#include <thread>

#include "agent/api/clock.h"
#include "agent/common/log.h"
#include "agent/common/settled_clock.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/datapath/pins.h"
#include "agent/discovery/discovery.h"
#include "agent/fallback/linux_fallback.h"
#include "agent/http/http_server.h"
#include "agent/metrics/gateway_prober.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/instance_lock.h"
#include "agent/runtime/lifecycle_messages.h"
#include "agent/runtime/netns.h"
#include "agent/runtime/privileges.h"
#include "agent/runtime/router_addresses.h"
#include "agent/simulator/simulator_datapath.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {

namespace {
int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "bwalloc: %s\n", message.c_str());
  return code;
}

void print_status(const DatapathStatus& status) {
  std::printf("backend: %s\n", status.backend.c_str());
  std::printf("programs attached: %zu\n", status.programs.size());
  for (const auto& p : status.programs) {
    std::printf("  %-18s %-8s %-16s id %u\n", p.program.c_str(), p.interface.c_str(), p.hook.c_str(), p.program_id);
  }
  std::printf("maps:\n");
  for (const auto& m : status.maps) {
    std::printf("  %-14s %8u / %u entries\n", m.name.c_str(), m.used_entries, m.max_entries);
  }
  std::printf("pacing: %s\n  %s\n", status.pacing_active ? "active (fq honours EDT timestamps)" : "not active",
              status.pacing_note.c_str());
  std::printf("unparsed packets passed: %llu\n", static_cast<unsigned long long>(status.unparsed_packets));
  std::printf("counter insert failures: %llu\n", static_cast<unsigned long long>(status.counter_insert_failures));
  if (status.backend == "pcap") {
    std::printf("capture drops: %llu\n", static_cast<unsigned long long>(status.capture_drops));
  }
}

// The datapath `agent.backend` asks for: eBPF, the pcap fallback, or eBPF
// with the fallback when it cannot be loaded ("auto").
Result<std::unique_ptr<Datapath>> open_kernel_datapath(const Config& config) {
  if (config.backend == "pcap") return open_pcap_datapath(config.datapath);
  auto ebpf = EbpfDatapath::open(config.datapath);
  if (ebpf) return std::unique_ptr<Datapath>(std::move(*ebpf));
  if (config.backend != "auto") return make_error("cannot attach the eBPF datapath", ebpf.message());
  if (std::string refusal = foreign_pin_dir_refusal(config.datapath.pin_dir); !refusal.empty()) {
    return make_error("cannot attach the eBPF datapath", refusal);
  }
  log_warn("agent", "eBPF datapath unavailable (" + ebpf.message() + "); falling back to pcap counting with tc shaping on " +
                        config.datapath.lan_interface);
  auto pcap = open_pcap_datapath(config.datapath);
  if (!pcap) {
    return Error{"cannot attach the eBPF datapath (" + ebpf.message() + ") nor the pcap fallback (" + pcap.message() + ")"};
  }
  return pcap;
}
}  // namespace

int run_status(const Config& config, const CliArgs& args) {
  bool running = InstanceLock::held_by_other(config.datapath.state_dir);
  std::printf("agent: %s\n", running ? "running" : "not running");
  auto ns = NetnsSwitch::enter(args.netns);
  if (!ns) return fail(ns.message());
  auto status = read_pinned_status(config.datapath);
  if (!status && tc_shaper_present()) {
    std::printf("backend: pcap (tc HTB shaping on %s and %s; its counters live in the running agent)\n",
                config.datapath.lan_interface.c_str(), kTcIfbInterface);
    return 0;
  }
  if (!status) {
    std::printf("datapath: %s\n", status.message().c_str());
    return 1;
  }
  print_status(*status);
  return 0;
}

int run_detach(const Config& config, const CliArgs& args) {
  if (InstanceLock::held_by_other(config.datapath.state_dir)) {
    return fail("an agent is running with state directory " + config.datapath.state_dir +
                "; stop it first (detach would pull the datapath out from under it)");
  }
  auto ns = NetnsSwitch::enter(args.netns);
  if (!ns) return fail(ns.message());
  auto detached = detach_datapath(config.datapath);
  if (!detached) return fail(detached.message());
  // What a killed pcap backend left (only when its ifb device is there).
  auto tc = detach_tc_shaper(config.datapath);
  if (!tc) return fail("remove the pcap backend's tc shaping: " + tc.message());
  if (*tc) std::printf("bwalloc: removed the pcap backend's tc shaping from %s\n", config.datapath.lan_interface.c_str());
  std::printf("bwalloc: detached from %s%s\n", config.datapath.lan_interface.c_str(),
              config.datapath.wan_interface.empty() ? "" : (" and " + config.datapath.wan_interface).c_str());
  return 0;
}

int run_agent(const Config& config, const CliArgs& args) {
  set_log_level(config.log_level);
  // Signals go to sigwait on this thread only: block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto lock = InstanceLock::acquire(config.datapath.state_dir);
  if (!lock) return fail(lock.message());

  SystemClock system_clock;
  SettledClock clock(system_clock);  // history stays in order while the clock is not set
  std::unique_ptr<Datapath> datapath;
  std::unique_ptr<Discovery> discovery;
  std::unique_ptr<GatewayProber> prober;
  std::unique_ptr<Agent> agent;
  std::atomic<bool> stop{false};
  std::thread ticker;
  {
    // The datapath, netlink sockets and the tick and probe threads live in
    // the router's namespace; the HTTP server below is created outside it.
    auto ns = NetnsSwitch::enter(args.netns);
    if (!ns) return fail(ns.message());
    if (config.backend == "simulator") {
      datapath = std::make_unique<SimulatorDatapath>(clock, config.simulated_devices, 42);
    } else {
      auto opened = open_kernel_datapath(config);
      if (!opened) return fail(opened.message());
      datapath = std::move(*opened);
      auto found = Discovery::open(config.datapath.lan_interface, config.discovery.oui_file,
                                   config.discovery.dnsmasq_leases, config.discovery.reverse_dns);
      if (found) {
        discovery = std::move(*found);
      } else {
        log_warn("agent", found.message() + "; Scan LAN is unavailable");
      }
      prober = std::make_unique<GatewayProber>(config.metrics.gateway, config.metrics.probe_interval);
      prober->start();
    }
    auto store = SqliteStore::open(config.store.path);
    if (!store) return fail(store.message());
    AgentParts parts{config, datapath.get(), std::move(*store), &clock, discovery.get(), prober.get()};
    // Only the kernel's counters outlive the agent; a restart resumes them.
    if (datapath->status().backend == "ebpf") parts.counter_baseline_path = config.datapath.state_dir + "/counters.baseline";
    if (config.backend != "simulator") {
      // Read on the tick thread, so in the router's namespace.
      parts.router_addresses = [] {
        auto own = read_router_addresses();
        if (!own) log_warn("agent", own.message());
        return own ? *own : std::vector<IpAddress>{};
      };
    }
    agent = std::make_unique<Agent>(std::move(parts));
    if (auto restored = agent->restore(); !restored) return fail(restored.message());
    ticker = std::thread([&] { agent->run(stop); });
  }

  HttpServerConfig http{config.http.bind, config.http.port, config.http.token_file, config.http.web_root,
                        config.http.allowed_hosts};
  auto server = HttpServer::start(http, *agent);
  if (!server) {
    stop = true;
    ticker.join();
    return fail(server.message());
  }
  // Start-up is done: programs attached, pins made, the socket bound, the
  // database open. From here on keep only what running needs.
  auto privileges = restrict_process_capabilities(runtime_capabilities(config.backend));
  if (!privileges) {
    (*server)->stop();
    stop = true;
    ticker.join();
    return fail("cannot drop the capabilities start-up needed: " + privileges.message() +
                " (the agent does not run with more than it needs)");
  }
  log_info("agent", "kept capabilities: " + capability_names(privileges->sets.effective) + " (bounding set " +
                        capability_names(privileges->sets.bounding) + ", no_new_privs, " +
                        std::to_string(privileges->threads) + " threads)");
  if (!privileges->note.empty()) log_warn("agent", "privileges: " + privileges->note);
  agent->set_privileges(privilege_view(*privileges));
  std::string url = "http://" + (config.http.bind.find(':') != std::string::npos ? "[" + config.http.bind + "]"
                                                                                    : config.http.bind) +
                    ":" + std::to_string((*server)->port()) + "/";
  log_info("agent", "dashboard and API on " + url);
  if (args.announce_dashboard) {
    std::printf("\nDashboard: %s#token=%s\n(API token in %s)\n\n", url.c_str(), (*server)->token().c_str(),
                config.http.token_file.c_str());
    std::fflush(stdout);
  }

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  log_info("agent", stopping_message(signal_number == SIGINT ? "SIGINT" : "SIGTERM", datapath->status().backend));
  (*server)->stop();
  stop = true;
  ticker.join();
  return 0;
}

int run_demo(const char* self, const std::vector<std::string>& options) {
  char resolved[PATH_MAX];
  std::string binary = realpath("/proc/self/exe", resolved) ? resolved : self;
  std::string script = std::string(BWALLOC_SOURCE_DIR) + "/scripts/demo-lan.sh";
  if (const char* dir = getenv("BWALLOC_SCRIPTS")) script = std::string(dir) + "/demo-lan.sh";
  if (access(script.c_str(), X_OK) != 0) return fail("demo script " + script + " is missing (set BWALLOC_SCRIPTS)");
  std::vector<std::string> argv_strings = {script, binary};
  argv_strings.insert(argv_strings.end(), options.begin(), options.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  execv(script.c_str(), argv.data());
  return fail("cannot run " + script + ": " + std::string(strerror(errno)));
}

}  // namespace bwalloc
