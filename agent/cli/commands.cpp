// run / status / detach / demo; see commands.h.
#include "agent/cli/commands.h"

#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <cstdio>

#include "agent/cli/linux_platform.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/fallback/linux_fallback.h"
#include "agent/runtime/agent_process.h"
#include "agent/runtime/instance_lock.h"
#include "agent/runtime/netns.h"

namespace bwalloc {

namespace {
int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "bwalloc: %s\n", message.c_str());
  return code;
}

void print_status(const DatapathStatus& status) {
  std::printf("backend: %s\n", std::string(backend_name(status.backend)).c_str());
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
  if (status.backend == Backend::Pcap) {
    std::printf("capture drops: %llu\n", static_cast<unsigned long long>(status.capture_drops));
  }
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
  if (*tc)
    std::printf("bwalloc: removed the pcap backend's tc shaping from %s\n", config.datapath.lan_interface.c_str());
  std::printf("bwalloc: detached from %s%s\n", config.datapath.lan_interface.c_str(),
              config.datapath.wan_interface.empty() ? "" : (" and " + config.datapath.wan_interface).c_str());
  return 0;
}

int run_agent(const Config& config, const CliArgs& args) {
  LinuxPlatform platform(args.netns);
  return run_agent_process(platform, config, {.announce_dashboard = args.announce_dashboard});
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
