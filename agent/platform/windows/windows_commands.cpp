// run / status / detach / demo on Windows (agent/cli/commands.h). The same
// agent, store and HTTP server as on Linux; what differs is the datapath
// (pcap capture through Npcap + NetQos shaping, or the simulator), the stop
// signal (Ctrl+C / Ctrl+Break / console close through SetConsoleCtrlHandler
// instead of sigwait) and the absence of network namespaces and of the
// Linux-only demo LAN.
#include <winsock2.h>
#include <windows.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>

#include "agent/cli/commands.h"
#include "agent/api/clock.h"
#include "agent/common/log.h"
#include "agent/fallback/pcap_api.h"
#include "agent/http/http_server.h"
#include "agent/metrics/gateway_prober.h"
#include "agent/platform/windows/wide_string.h"
#include "agent/platform/windows/windows_datapath.h"
#include "agent/platform/windows/windows_paths.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/instance_lock.h"
#include "agent/simulator/simulator_datapath.h"
#include "agent/store/sqlite_store.h"

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

// The console's stop events, turned into one wait the main thread can do.
std::mutex g_stop_mutex;
std::condition_variable g_stop_cv;
DWORD g_stop_event = 0;
bool g_stopping = false;

BOOL WINAPI on_console_event(DWORD event) {
  {
    std::lock_guard lock(g_stop_mutex);
    g_stopping = true;
    g_stop_event = event;
  }
  g_stop_cv.notify_all();
  // For a console close Windows ends the process when this returns: give
  // the main thread a moment to stop the server and flush the store.
  if (event == CTRL_CLOSE_EVENT) Sleep(3000);
  return TRUE;
}

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

const char* stop_event_name(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT: return "Ctrl+C";
    case CTRL_BREAK_EVENT: return "Ctrl+Break";
    case CTRL_CLOSE_EVENT: return "console close";
    default: return "shutdown";
  }
}
}  // namespace

int run_status(const Config& given, const CliArgs& args) {
  const Config config = with_windows_paths(given);
  if (!args.netns.empty()) return fail("--netns is Linux-only");
  bool running = InstanceLock::held_by_other(config.datapath.state_dir);
  std::printf("agent: %s\n", running ? "running" : "not running");
  auto pcap = load_pcap_api();
  std::printf("capture: %s\n", pcap ? ("Npcap found (" + std::string((*pcap).lib_version()) + ")").c_str()
                                    : pcap.message().c_str());
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
  const Config config = with_windows_paths(given);
  set_log_level(config.log_level);
  if (!args.netns.empty()) return fail("--netns is Linux-only");
  SetConsoleCtrlHandler(on_console_event, TRUE);

  auto lock = InstanceLock::acquire(config.datapath.state_dir);
  if (!lock) return fail(lock.message());

  SystemClock clock;
  std::unique_ptr<Datapath> datapath;
  std::unique_ptr<GatewayProber> prober;
  if (config.backend == "simulator") {
    datapath = std::make_unique<SimulatorDatapath>(clock, config.simulated_devices, 42);
  } else {
    // eBPF is Linux-only: "auto" and "pcap" mean Npcap + NetQos here.
    if (config.backend == "ebpf") {
      log_info("agent", "backend \"" + config.backend + "\" is Linux-only; using pcap (Npcap capture, NetQos shaping)");
    }
    auto opened = open_windows_datapath(config);
    if (!opened) return fail(opened.message());
    datapath = std::move(*opened);
    prober = std::make_unique<GatewayProber>(config.metrics.gateway, config.metrics.probe_interval);
    prober->start();
  }
  auto store = SqliteStore::open(config.store.path);
  if (!store) return fail(store.message());
  // No neighbour table to scan on Windows: devices come from the capture.
  AgentParts parts{config, datapath.get(), std::move(*store), &clock, nullptr, prober.get()};
  auto agent = std::make_unique<Agent>(std::move(parts));
  if (auto restored = agent->restore(); !restored) return fail(restored.message());
  std::atomic<bool> stop{false};
  std::thread ticker([&] { agent->run(stop); });

  HttpServerConfig http{config.http.bind, config.http.port, config.http.token_file, config.http.web_root,
                        config.http.allowed_hosts};
  auto server = HttpServer::start(http, *agent);
  if (!server) {
    stop = true;
    ticker.join();
    return fail(server.message());
  }
  std::string url = "http://" + (config.http.bind.find(':') != std::string::npos ? "[" + config.http.bind + "]"
                                                                                    : config.http.bind) +
                    ":" + std::to_string((*server)->port()) + "/";
  log_info("agent", "dashboard and API on " + url);
  if (args.announce_dashboard) {
    std::printf("\nDashboard: %s#token=%s\n(API token in %s)\n\n", url.c_str(), (*server)->token().c_str(),
                config.http.token_file.c_str());
    std::fflush(stdout);
  }

  DWORD event = 0;
  {
    std::unique_lock wait(g_stop_mutex);
    g_stop_cv.wait(wait, [] { return g_stopping; });
    event = g_stop_event;
  }
  log_info("agent", std::string("stopping on ") + stop_event_name(event) +
                        "; NetQos policies stay (bwalloc detach removes them)");
  (*server)->stop();
  stop = true;
  ticker.join();
  return 0;
}

}  // namespace bwalloc
