// Counter deltas and windows; see sampler.h.
#include "agent/core/sampler.h"

#include <algorithm>

namespace bwalloc {

Sampler::Sampler(size_t window, std::chrono::milliseconds nominal_tick, std::chrono::milliseconds forget_after)
    : window_(window), nominal_tick_(nominal_tick), forget_after_(forget_after) {}

std::vector<DeviceSample> Sampler::update(const std::vector<DeviceCounters>& counters,
                                          std::chrono::steady_clock::time_point now) {
  using namespace std::chrono;
  duration<double> elapsed = has_previous_ ? duration<double>(now - previous_) : duration<double>(nominal_tick_);
  elapsed = std::max(elapsed, duration<double>(nominal_tick_) / 2);
  const bool had_previous = has_previous_;
  has_previous_ = true;
  previous_ = now;

  auto delta = [](uint64_t current, uint64_t last) { return current >= last ? current - last : current; };
  std::vector<DeviceSample> samples;
  samples.reserve(counters.size());
  // Grown once to the device count, not rehashed step by step as it fills.
  if (last_.bucket_count() < counters.size()) last_.reserve(counters.size());
  if (windows_.bucket_count() < counters.size()) windows_.reserve(counters.size());
  const bool first_read = !had_previous;
  for (const DeviceCounters& c : counters) {
    // On the very first read every count may span hours (the maps outlive
    // the agent), so it only sets the baseline. A device that appears later
    // got its counter entry since the previous read: all of it is new.
    Baseline start = first_read ? Baseline{c.up_bytes, c.down_bytes, now} : Baseline{0, 0, now};
    auto [it, first_sight] = last_.try_emplace(c.address, start);
    Baseline& base = it->second;
    if (first_sight && first_read) continue;
    DeviceSample s;
    s.ip = c.address;
    s.tx_bytes = delta(c.up_bytes, base.up);
    s.rx_bytes = delta(c.down_bytes, base.down);
    s.tx_bits_per_sec = static_cast<double>(s.tx_bytes) * 8 / elapsed.count();
    s.rx_bits_per_sec = static_cast<double>(s.rx_bytes) * 8 / elapsed.count();
    base = Baseline{c.up_bytes, c.down_bytes, now};
    windows_.try_emplace(c.address, window_).first->second.push(s.tx_bits_per_sec + s.rx_bits_per_sec);
    samples.push_back(s);
  }
  oldest_seen_ = std::min(oldest_seen_, now);  // every device read now was seen now
  if (now - oldest_seen_ > forget_after_) {
    oldest_seen_ = now;
    for (auto it = last_.begin(); it != last_.end();) {
      if (now - it->second.seen > forget_after_) {
        windows_.erase(it->first);
        it = last_.erase(it);
      } else {
        oldest_seen_ = std::min(oldest_seen_, it->second.seen);
        ++it;
      }
    }
  }
  return samples;
}

std::vector<CounterBaseline> Sampler::baselines() const {
  std::vector<CounterBaseline> out;
  out.reserve(last_.size());
  for (const auto& [ip, base] : last_) out.push_back(CounterBaseline{ip, base.up, base.down});
  return out;
}

bool Sampler::resume(const std::vector<CounterBaseline>& baselines, std::chrono::steady_clock::time_point read_at,
                     std::chrono::steady_clock::time_point now) {
  if (has_previous_ || read_at > now || now - read_at > forget_after_) return false;
  has_previous_ = true;
  previous_ = read_at;
  for (const auto& b : baselines) last_[b.ip] = Baseline{b.up_bytes, b.down_bytes, read_at};
  oldest_seen_ = std::min(oldest_seen_, read_at);
  return true;
}

}  // namespace bwalloc
