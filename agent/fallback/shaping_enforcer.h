// ShapingEnforcer: holds a CommandShaper's host state to the policies the
// agent wants, one plan-run-commit at a time. The fallback datapaths (pcap
// capture with tc on Linux or NetQos on Windows, and NetQos alone when
// Windows has no Npcap) share it, so they record what is wanted and recover
// from a failed command the same way:
// - a plan the shaper refuses (a bad value) changes nothing;
// - a planned change is wanted from then on, whether its commands run or
//   not; when a command fails, what the host holds is unknown, so the
//   shaper is invalidated and the next change rebuilds everything wanted.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"
#include "agent/fallback/command_runner.h"
#include "agent/fallback/command_shaper.h"

namespace bwalloc {

// Told each accepted change of the wanted policies, before its commands run
// (the pcap datapath counts a blocked device's packets as drops from then on).
using WantedPoliciesListener = std::function<void(const std::map<IpAddress, DevicePolicy>& wanted)>;

class ShapingEnforcer {
 public:
  ShapingEnforcer(std::unique_ptr<CommandShaper> shaper, std::unique_ptr<CommandRunner> runner,
                  WantedPoliciesListener listener = {});
  ShapingEnforcer(const ShapingEnforcer&) = delete;
  ShapingEnforcer& operator=(const ShapingEnforcer&) = delete;

  // Clears what an earlier run left and installs the shaper's fixed part.
  [[nodiscard]] Result<void> start();
  // Removes everything the shaper installs once start() has begun (a
  // half-built tree too); nothing otherwise.
  void teardown();

  // Adds or changes these devices' policies.
  [[nodiscard]] Result<void> apply(const std::vector<DevicePolicy>& policies);
  // Unshapes one device (nothing to do when it was not shaped).
  [[nodiscard]] Result<void> remove(const IpAddress& address);
  // New priority or unlimited ports: the shaper validates them first (a list
  // it refuses changes nothing), `accepted` runs once it took them, then
  // every wanted policy is planned again.
  [[nodiscard]] Result<void> update_ports(const std::vector<ProtocolPort>& priority,
                                          const std::vector<ProtocolPort>& unlimited,
                                          const std::function<void()>& accepted = {});

  struct Status {
    std::string shaper;  // "tc", "netqos"
    bool dry_run = false;
    size_t shaped_devices = 0;  // after the last change that ran
    std::string error;          // the last change's failure; "" once one runs
  };
  // Any thread, without waiting for a change under way.
  Status status() const;

 private:
  [[nodiscard]] Result<void> enforce_locked(std::map<IpAddress, DevicePolicy> wanted);

  std::unique_ptr<CommandShaper> shaper_;
  std::unique_ptr<CommandRunner> runner_;
  WantedPoliciesListener listener_;

  std::mutex change_mutex_;  // one plan-run-commit at a time
  std::map<IpAddress, DevicePolicy> wanted_;
  bool started_ = false;

  mutable std::mutex status_mutex_;
  size_t shaped_devices_ = 0;
  std::string error_;
};

}  // namespace bwalloc
