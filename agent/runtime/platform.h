// Platform: what differs between the Linux and the Windows agent. The one
// composition root (agent/runtime/agent_process.h) builds the same object
// graph on both from it: the clock, the store, the agent, its tick thread
// and the HTTP server; a platform only opens its datapath and what goes
// with it, runs start-up work in the router's namespace, drops privileges
// and waits for the stop.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/api/agent_control.h"
#include "agent/api/clock.h"
#include "agent/common/ip_address.h"
#include "agent/common/result.h"
#include "agent/config/config.h"
#include "agent/api/datapath.h"
#include "agent/discovery/discovery.h"
#include "agent/metrics/gateway_prober.h"

namespace bwalloc {

// What a platform opens for a kernel backend (everything but the simulator).
struct KernelParts {
  std::unique_ptr<Datapath> datapath;
  std::unique_ptr<Discovery> discovery;   // null: Scan LAN is unavailable
  std::unique_ptr<GatewayProber> prober;  // null: no delay or loss figures
  // Where each tick saves the counter baselines (only for counters that
  // outlive the agent); "" = none.
  std::string counter_baseline_path;
  // The router's own addresses, read on the tick thread; empty = none known.
  std::function<std::vector<IpAddress>()> router_addresses;
};

class Platform {
 public:
  virtual ~Platform() = default;

  // Called first, before any thread starts (signal masks are per thread
  // and inherited).
  virtual void prepare_stop_signals() = 0;
  // Runs `work` in the router's namespace: the datapath, its sockets and
  // the tick thread are made there, the HTTP server outside it.
  [[nodiscard]] virtual Result<void> in_router_namespace(const std::function<Result<void>()>& work) = 0;
  // Opens the datapath `config.backend` names (never "simulator"), with the
  // discovery and the gateway prober that go with it.
  [[nodiscard]] virtual Result<KernelParts> open_kernel_parts(const Config& config) = 0;
  // Start-up is done: keeps only what running needs. The view goes to
  // /health; a platform without capabilities returns the default view.
  [[nodiscard]] virtual Result<PrivilegeView> restrict_privileges(const Config& config) = 0;
  // Blocks until the operator stops the agent; returns what stopped it
  // ("SIGINT", "Ctrl+C"...).
  virtual std::string wait_for_stop() = 0;
  // The log line for the stop: what stays behind for `backend`.
  virtual std::string stopping_message(std::string_view stopped_by, Backend backend) const = 0;
};

}  // namespace bwalloc
