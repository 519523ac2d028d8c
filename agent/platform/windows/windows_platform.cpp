// See windows_platform.h.
#include "agent/platform/windows/windows_platform.h"

#include <winsock2.h>
#include <windows.h>

#include <condition_variable>
#include <mutex>

#include "agent/common/log.h"
#include "agent/platform/windows/windows_datapath.h"

namespace bwalloc {

namespace {
// The console's stop events, turned into one wait the main thread can do.
// A console control handler is process-wide, hence these globals.
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

const char* stop_event_name(DWORD event) {
  switch (event) {
    case CTRL_C_EVENT:
      return "Ctrl+C";
    case CTRL_BREAK_EVENT:
      return "Ctrl+Break";
    case CTRL_CLOSE_EVENT:
      return "console close";
    default:
      return "shutdown";
  }
}
}  // namespace

void WindowsPlatform::prepare_stop_signals() { SetConsoleCtrlHandler(on_console_event, TRUE); }

Result<void> WindowsPlatform::in_router_namespace(const std::function<Result<void>()>& work) { return work(); }

Result<KernelParts> WindowsPlatform::open_kernel_parts(const Config& config) {
  // eBPF is Linux-only: "auto" and "pcap" mean Npcap + NetQos here.
  if (config.backend == BackendChoice::Ebpf) {
    log_info("agent", "backend \"ebpf\" is Linux-only; using pcap (Npcap capture, NetQos shaping)");
  }
  KernelParts parts;
  auto opened = open_windows_datapath(config);
  if (!opened) return opened.error();
  parts.datapath = std::move(*opened);
  parts.prober = std::make_unique<GatewayProber>(config.metrics.gateway, config.metrics.probe_interval);
  parts.prober->start();
  return parts;
}

Result<PrivilegeView> WindowsPlatform::restrict_privileges(const Config&) { return PrivilegeView{}; }

std::string WindowsPlatform::wait_for_stop() {
  std::unique_lock wait(g_stop_mutex);
  g_stop_cv.wait(wait, [] { return g_stopping; });
  return stop_event_name(g_stop_event);
}

std::string WindowsPlatform::stopping_message(std::string_view stopped_by, Backend) const {
  return "stopping on " + std::string(stopped_by) + "; NetQos policies stay (bwalloc detach removes them)";
}

}  // namespace bwalloc
