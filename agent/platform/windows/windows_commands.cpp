// run / status / detach / demo on Windows (agent/cli/commands.h). The same
// agent, store and HTTP server as on Linux; what differs is the datapath
// (pcap capture through Npcap + NetQos shaping, or the simulator), the stop
// signal (Ctrl+C / Ctrl+Break / console close through SetConsoleCtrlHandler
// instead of sigwait) and the absence of network namespaces and of the
// Linux-only demo LAN; `run` is the composition root with WindowsPlatform.
#include <winsock2.h>
#include <windows.h>

#include <cstdio>

#include "agent/cli/commands.h"
#include "agent/fallback/pcap_api.h"
#include "agent/platform/windows/wide_string.h"
#include "agent/platform/windows/windows_datapath.h"
#include "agent/platform/windows/windows_paths.h"
#include "agent/platform/windows/windows_platform.h"
#include "agent/runtime/agent_process.h"
#include "agent/runtime/instance_lock.h"

namespace bwalloc {

namespace {
int fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "bwalloc: %s\n", message.c_str());
  return code;
}

// Winsock before anything else (IpAddress parsing while the config loads,
// Asio, the ICMP helper); the process ends without WSACleanup, as Windows allows.
struct WinsockStartup {
  WinsockStartup() {
    WSADATA data;
    WSAStartup(MAKEWORD(2, 2), &data);
  }
} g_winsock_startup;

// The configuration with Windows paths for what was left at a Linux default.
Config with_windows_paths(const Config& given) {
  Config config = given;
  wchar_t buffer[MAX_PATH];
  DWORD n = GetEnvironmentVariableW(L"ProgramData", buffer, MAX_PATH);
  const std::string program_data = n > 0 && n < MAX_PATH ? to_utf8(std::wstring_view(buffer, n)) : "C:\\ProgramData";
  n = GetModuleFileNameW(nullptr, buffer, MAX_PATH);
  const std::string exe = n > 0 && n < MAX_PATH ? to_utf8(std::wstring_view(buffer, n)) : "";
  const size_t slash = exe.find_last_of("\\/");
  apply_windows_default_paths(config, program_data, slash == std::string::npos ? "." : exe.substr(0, slash));
  return config;
}

}  // namespace

int run_status(const Config& given, const CliArgs& args) {
  const Config config = with_windows_paths(given);
  if (!args.netns.empty()) return fail("--netns is Linux-only");
  bool running = InstanceLock::held_by_other(config.datapath.state_dir);
  std::printf("agent: %s\n", running ? "running" : "not running");
  auto pcap = load_pcap_api();
  std::printf("capture: %s\n",
              pcap ? ("Npcap found (" + std::string((*pcap).lib_version()) + ")").c_str() : pcap.message().c_str());
  std::printf(
      "shaping: NetQos policies named bwalloc-<address>-up/-down (Get-NetQosPolicy -PolicyStore ActiveStore)\n");
  return 0;
}

int run_detach(const Config& given, const CliArgs&) {
  const Config config = with_windows_paths(given);
  if (InstanceLock::held_by_other(config.datapath.state_dir)) {
    return fail("an agent is running with state directory " + config.datapath.state_dir + "; stop it first");
  }
  auto removed = remove_windows_shaping();
  if (!removed) return fail(removed.message());
  std::printf("bwalloc: removed every bwalloc NetQos policy\n");
  return 0;
}

int run_demo(const char*, const std::vector<std::string>&) {
  return fail(
      "the demo LAN needs Linux network namespaces; on Windows run `bwalloc run --set agent.backend=simulator`");
}

int run_agent(const Config& given, const CliArgs& args) {
  if (!args.netns.empty()) return fail("--netns is Linux-only");
  WindowsPlatform platform;
  return run_agent_process(platform, with_windows_paths(given), {.announce_dashboard = args.announce_dashboard});
}

}  // namespace bwalloc
