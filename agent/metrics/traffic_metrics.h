// The dashboard's traffic figures, as the original defined them (pure):
// throughput over the last 5 s with each byte counted once, congestion as
// the share of devices at Low, active devices as those seen in 5 minutes.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>

namespace bwalloc {

class ThroughputWindow {
 public:
  explicit ThroughputWindow(std::chrono::milliseconds span = std::chrono::seconds(5)) : span_(span) {}
  // Bytes that crossed the router in one tick: each device's up + down.
  // A byte from device A to device B through the router is A's up and B's
  // down, but LAN-to-LAN traffic is switched, not routed, so every routed
  // byte is exactly one device's up or down: summing counts it once.
  void add(std::chrono::steady_clock::time_point at, uint64_t bytes);
  // Mbit/s over the span: bytes * 8 / 1e6 / span seconds.
  double mbit_per_sec(std::chrono::steady_clock::time_point now) const;

 private:
  std::chrono::milliseconds span_;
  std::deque<std::pair<std::chrono::steady_clock::time_point, uint64_t>> ticks_;
};

inline double congestion_percent(int low_devices, int all_devices) {
  return all_devices == 0 ? 0.0 : 100.0 * low_devices / all_devices;
}

inline bool is_active(int64_t last_seen_ms, int64_t now_ms) {
  return last_seen_ms > 0 && now_ms - last_seen_ms <= 5 * 60 * 1000;
}

}  // namespace bwalloc
