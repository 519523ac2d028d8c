// See agent_process.h.
#include "agent/runtime/agent_process.h"

#include <atomic>
#include <cstdio>
#include <thread>

#include "agent/common/log.h"
#include "agent/common/settled_clock.h"
#include "agent/http/http_server.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/instance_lock.h"
#include "agent/simulator/simulator_datapath.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {

namespace {
int fail(const std::string& message) {
  std::fprintf(stderr, "bwalloc: %s\n", message.c_str());
  return 1;
}

std::string dashboard_url(const std::string& bind, uint16_t port) {
  const std::string host = bind.find(':') != std::string::npos ? "[" + bind + "]" : bind;
  return "http://" + host + ":" + std::to_string(port) + "/";
}

// The tick thread, joined on every way out of run_agent_process.
class Ticker {
 public:
  void start(Agent& agent) {
    agent.expect_run_loop();
    thread_ = std::thread([this, &agent] { agent.run(stop_); });
  }
  ~Ticker() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> stop_{false};
  std::thread thread_;
};
}  // namespace

int run_agent_process(Platform& platform, const Config& config, const AgentProcessOptions& options) {
  set_log_level(config.log_level);
  platform.prepare_stop_signals();
  auto lock = InstanceLock::acquire(config.datapath.state_dir);
  if (!lock) return fail(lock.message());

  SystemClock system_clock;
  SettledClock clock(system_clock);  // history stays in order while the clock is not set
  KernelParts kernel;
  std::unique_ptr<Agent> agent;
  // Declared after the parts it uses, so it is joined before they go.
  Ticker ticker;
  auto started = platform.in_router_namespace([&]() -> Result<void> {
    if (config.backend == BackendChoice::Simulator) {
      kernel.datapath = std::make_unique<SimulatorDatapath>(clock, config.simulated_devices, 42);
    } else {
      auto opened = platform.open_kernel_parts(config);
      if (!opened) return opened.error();
      kernel = std::move(*opened);
    }
    auto store = SqliteStore::open(config.store.path);
    if (!store) return store.error();
    AgentParts parts{config, kernel.datapath.get(),  std::move(*store),
                     &clock, kernel.discovery.get(), kernel.prober.get()};
    parts.counter_baseline_path = kernel.counter_baseline_path;
    parts.router_addresses = kernel.router_addresses;
    agent = std::make_unique<Agent>(std::move(parts));
    if (auto restored = agent->restore(); !restored) return restored.error();
    ticker.start(*agent);
    return {};
  });
  if (!started) return fail(started.message());

  HttpServerConfig http{config.http.bind, config.http.port, config.http.token_file, config.http.web_root,
                        config.http.allowed_hosts};
  auto server = HttpServer::start(http, *agent);
  if (!server) return fail(server.message());
  // Start-up is done: programs attached, pins made, the socket bound, the
  // database open. From here on keep only what running needs.
  auto privileges = platform.restrict_privileges(config);
  if (!privileges) {
    (*server)->stop();
    return fail(privileges.message());
  }
  agent->set_privileges(*privileges);
  const std::string url = dashboard_url(config.http.bind, (*server)->port());
  log_info("agent", "dashboard and API on " + url);
  if (options.announce_dashboard) {
    std::printf("\nDashboard: %s#token=%s\n(API token in %s)\n\n", url.c_str(), (*server)->token().c_str(),
                config.http.token_file.c_str());
    std::fflush(stdout);
  }

  const std::string stopped_by = platform.wait_for_stop();
  log_info("agent", platform.stopping_message(stopped_by, kernel.datapath->status().backend));
  (*server)->stop();
  ticker.stop();
  return 0;
}

}  // namespace bwalloc
