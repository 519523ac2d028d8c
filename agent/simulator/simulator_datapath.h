// SimulatorDatapath: synthetic devices and traffic for demos and browser
// tests without root or a kernel datapath. Light browsers, steady heavy
// downloaders, a device that spikes every ~30 s, and devices that come and
// go. Policies are honoured: a limited device never grows faster than its
// rate, and a Blocked one grows not at all (its drops are counted).
#pragma once

#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "agent/api/clock.h"
#include "agent/api/datapath.h"

namespace bwalloc {

class SimulatorDatapath final : public Datapath {
 public:
  SimulatorDatapath(const Clock& clock, int devices, uint32_t seed);

  Result<std::vector<DeviceCounters>> read_counters() override;
  Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override;
  Result<void> remove_policy(const IpAddress& address) override;
  DatapathStatus status() const override;

 private:
  enum class Profile { Light, Heavy, Spiky, Streaming };
  struct SimDevice {
    IpAddress ip;
    Profile profile;
    double phase = 0;     // seconds into its pattern
    bool present = true;  // devices come and go
    DeviceCounters counters;
  };
  double offered_bits_per_sec(const SimDevice& d, double t);

  const Clock& clock_;
  mutable std::mutex mutex_;
  std::mt19937 rng_;
  std::vector<SimDevice> devices_;
  std::unordered_map<IpAddress, DevicePolicy> policies_;
  std::chrono::steady_clock::time_point last_;
  double elapsed_ = 0;
};

}  // namespace bwalloc
