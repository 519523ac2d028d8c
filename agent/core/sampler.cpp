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
  if (tracks_.bucket_count() < counters.size()) tracks_.reserve(counters.size());
  const bool first_read = !had_previous;
  for (const DeviceCounters& c : counters) {
    auto [it, first_sight] = tracks_.try_emplace(c.address, window_);
    DeviceTrack& track = it->second;
    // On the very first read every count may span hours (the maps outlive
    // the agent), so it only sets the baseline. A device that appears later
    // got its counter entry since the previous read: all of it is new.
    const bool baseline_only = first_sight && first_read;
    const uint64_t base_up = first_sight ? 0 : track.up;
    const uint64_t base_down = first_sight ? 0 : track.down;
    track.up = c.up_bytes;
    track.down = c.down_bytes;
    track.seen = now;
    if (baseline_only) continue;
    DeviceSample s;
    s.ip = c.address;
    s.up_bytes = delta(c.up_bytes, base_up);
    s.down_bytes = delta(c.down_bytes, base_down);
    s.up_bits_per_sec = static_cast<double>(s.up_bytes) * 8 / elapsed.count();
    s.down_bits_per_sec = static_cast<double>(s.down_bytes) * 8 / elapsed.count();
    track.push(s.up_bits_per_sec + s.down_bits_per_sec);
    samples.push_back(s);
  }
  oldest_seen_ = std::min(oldest_seen_, now);  // every device read now was seen now
  if (now - oldest_seen_ > forget_after_) {
    oldest_seen_ = now;
    for (auto it = tracks_.begin(); it != tracks_.end();) {
      if (now - it->second.seen > forget_after_) {
        it = tracks_.erase(it);
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
  out.reserve(tracks_.size());
  for (const auto& [ip, track] : tracks_) out.push_back(CounterBaseline{ip, track.up, track.down});
  return out;
}

bool Sampler::resume(const std::vector<CounterBaseline>& baselines, std::chrono::steady_clock::time_point read_at,
                     std::chrono::steady_clock::time_point now) {
  if (has_previous_ || read_at > now || now - read_at > forget_after_) return false;
  has_previous_ = true;
  previous_ = read_at;
  for (const auto& b : baselines) {
    DeviceTrack& track = tracks_.try_emplace(b.ip, window_).first->second;
    track.up = b.up_bytes;
    track.down = b.down_bytes;
    track.seen = read_at;
  }
  oldest_seen_ = std::min(oldest_seen_, read_at);
  return true;
}

}  // namespace bwalloc
