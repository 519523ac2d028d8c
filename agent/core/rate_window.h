// RateWindow: a device's last N per-tick rates, oldest first, in one fixed
// ring allocated once. A std::deque per device cost about 600 bytes and an
// allocation every few dozen ticks; at 65,536 devices that was 40 MB and a
// good part of the tick.
#pragma once

#include <cstddef>
#include <vector>

namespace bwalloc {

class RateWindow {
 public:
  explicit RateWindow(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Appends the newest rate, dropping the oldest once the window is full.
  void push(double rate) {
    if (ring_.size() < capacity_) {
      if (ring_.empty()) ring_.reserve(capacity_);
      ring_.push_back(rate);
      return;
    }
    ring_[oldest_] = rate;
    if (++oldest_ == capacity_) oldest_ = 0;
  }

  size_t size() const { return ring_.size(); }
  bool empty() const { return ring_.empty(); }
  // i = 0 is the oldest sample, size() - 1 the newest.
  double operator[](size_t i) const {
    const size_t at = oldest_ + i;  // no modulo: a division per read showed in the tick
    return ring_[at < ring_.size() ? at : at - ring_.size()];
  }
  double back() const { return (*this)[ring_.size() - 1]; }

 private:
  size_t capacity_;
  size_t oldest_ = 0;  // index in ring_ of the oldest sample once full
  std::vector<double> ring_;
};

}  // namespace bwalloc
