// Synthetic traffic; see simulator_datapath.h.
#include "agent/simulator/simulator_datapath.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace bwalloc {

SimulatorDatapath::SimulatorDatapath(const Clock& clock, int devices, uint32_t seed)
    : clock_(clock), rng_(seed), last_(clock.mono_now()) {
  for (int i = 0; i < devices; ++i) {
    SimDevice d;
    if (i % 5 == 4) {  // every fifth device is IPv6-only: fd00:77::<n>
      std::array<uint8_t, 16> v6{0xfd, 0x00, 0x00, 0x77};
      const uint32_t n = 10 + static_cast<uint32_t>(i);
      v6[12] = static_cast<uint8_t>(n >> 24);
      v6[13] = static_cast<uint8_t>(n >> 16);
      v6[14] = static_cast<uint8_t>(n >> 8);
      v6[15] = static_cast<uint8_t>(n);
      d.ip = IpAddress(v6);
    } else {
      d.ip = IpAddress::from_v4(0x0a4d0000u + 10 + static_cast<uint32_t>(i));  // 10.77.x.y
    }
    d.profile = i % 4 == 0   ? Profile::Heavy
                : i % 4 == 1 ? Profile::Light
                : i % 4 == 2 ? Profile::Spiky
                             : Profile::Streaming;
    d.phase = static_cast<double>(i) * 7.0;
    d.counters.address = d.ip;
    devices_.push_back(d);
  }
}

double SimulatorDatapath::offered_bits_per_sec(const SimDevice& d, double t) {
  std::uniform_real_distribution<double> jitter(0.7, 1.3);
  switch (d.profile) {
    case Profile::Heavy:
      return 30e6 * jitter(rng_);
    case Profile::Light:
      return (std::fmod(t + d.phase, 10.0) < 1.0 ? 400e3 : 20e3) * jitter(rng_);
    case Profile::Spiky:
      return (std::fmod(t + d.phase, 30.0) < 4.0 ? 25e6 : 150e3) * jitter(rng_);
    case Profile::Streaming:
      return 1.2e6 * jitter(rng_);
  }
  return 0;
}

Result<std::vector<DeviceCounters>> SimulatorDatapath::read_counters() {
  std::lock_guard lock(mutex_);
  auto now = clock_.mono_now();
  double dt = std::clamp(std::chrono::duration<double>(now - last_).count(), 0.0, 60.0);
  last_ = now;
  elapsed_ += dt;
  std::vector<DeviceCounters> out;
  for (size_t i = 0; i < devices_.size(); ++i) {
    SimDevice& d = devices_[i];
    // One device in eight leaves for a minute every five minutes.
    d.present = !(i % 8 == 7 && std::fmod(elapsed_ + d.phase, 300.0) > 240.0);
    if (!d.present) continue;
    double offered = offered_bits_per_sec(d, elapsed_) * dt;  // bits this interval
    double down_share = d.profile == Profile::Light ? 0.7 : 0.9;
    double down_bits = offered * down_share, up_bits = offered - down_bits;
    auto policy = policies_.find(d.ip);
    if (policy != policies_.end()) {
      if (policy->second.priority == Priority::Blocked) {
        d.counters.blocked_drops += static_cast<uint64_t>(offered / 8 / 1000) + 1;
        out.push_back(d.counters);
        continue;
      }
      if (policy->second.down_rate_bits_per_sec)
        down_bits = std::min(down_bits, policy->second.down_rate_bits_per_sec * dt);
      if (policy->second.up_rate_bits_per_sec) up_bits = std::min(up_bits, policy->second.up_rate_bits_per_sec * dt);
    }
    d.counters.down_bytes += static_cast<uint64_t>(down_bits / 8);
    d.counters.up_bytes += static_cast<uint64_t>(up_bits / 8);
    d.counters.down_packets += static_cast<uint64_t>(down_bits / 8 / 1400) + 1;
    d.counters.up_packets += static_cast<uint64_t>(up_bits / 8 / 200) + 1;
    d.counters.last_seen_age_ns = 0;
    out.push_back(d.counters);
  }
  return out;
}

Result<void> SimulatorDatapath::apply_policies(const std::vector<DevicePolicy>& policies) {
  std::lock_guard lock(mutex_);
  for (const auto& p : policies) policies_[p.address] = p;
  return {};
}

Result<void> SimulatorDatapath::remove_policy(const IpAddress& address) {
  std::lock_guard lock(mutex_);
  policies_.erase(address);
  return {};
}

DatapathStatus SimulatorDatapath::status() const {
  std::lock_guard lock(mutex_);
  DatapathStatus s;
  s.backend = Backend::Simulator;
  s.pacing_active = false;
  s.pacing_note = "simulated devices: no kernel datapath";
  s.maps.push_back(
      MapInfo{"simulated devices", static_cast<uint32_t>(devices_.size()), static_cast<uint32_t>(devices_.size())});
  return s;
}

}  // namespace bwalloc
