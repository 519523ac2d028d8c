// Rolling throughput; see traffic_metrics.h.
#include "agent/metrics/traffic_metrics.h"

namespace bwalloc {

void ThroughputWindow::add(std::chrono::steady_clock::time_point at, uint64_t bytes) {
  ticks_.emplace_back(at, bytes);
  while (!ticks_.empty() && at - ticks_.front().first >= span_) ticks_.pop_front();
}

double ThroughputWindow::mbit_per_sec(std::chrono::steady_clock::time_point now) const {
  uint64_t bytes = 0;
  for (const auto& [at, b] : ticks_) {
    if (now - at < span_) bytes += b;
  }
  return static_cast<double>(bytes) * 8 / 1e6 / std::chrono::duration<double>(span_).count();
}

}  // namespace bwalloc
