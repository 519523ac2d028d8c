// GatewayProber: delay and loss to the router's real default gateway,
// measured with the agent's own ICMP echoes in a background thread (never
// inside a request). The gateway comes from the routing table unless
// configured.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"

namespace bwalloc {

struct GatewayHealth {
  std::optional<std::string> gateway;  // none: no default route
  std::optional<double> delay_ms;      // mean RTT of the answered probes in the window
  std::optional<double> loss_percent;  // unanswered / sent in the window
};

// The IPv4 default route's gateway from the main routing table.
[[nodiscard]] Result<std::optional<IpAddress>> default_gateway_v4();

// Pure summary of a window of probe outcomes (RTT in ms, or nullopt = lost).
GatewayHealth summarize_probes(const std::deque<std::optional<double>>& outcomes);

class GatewayProber {
 public:
  // `gateway` empty: follow the default route (looked up before each probe).
  GatewayProber(std::string gateway, std::chrono::milliseconds interval, size_t window = 20);
  ~GatewayProber();  // stops the thread
  void start();      // the thread inherits the caller's network namespace
  GatewayHealth health() const;

 private:
  void loop();
  std::optional<double> probe_once(const IpAddress& target, uint16_t sequence);

  std::string configured_;
  std::chrono::milliseconds interval_;
  size_t window_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  mutable std::mutex mutex_;
  std::deque<std::optional<double>> outcomes_;
  std::optional<std::string> gateway_;
};

}  // namespace bwalloc
