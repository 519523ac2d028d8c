// TcShaper: the Linux CommandShaper. A pure builder, tc_commands(), turns
// the committed state and the policies the agent wants into `tc`/`ip` argv
// vectors; TcShaper keeps the committed state between plans.
//
// The tree, the same on both shaped interfaces:
//   LAN interface egress: download, filters match the destination address.
//   ifb device egress: upload; LAN ingress is redirected to it (u32 match-all
//   + mirred), filters match the source address.
//
//   root 1: htb default 1
//     1:1   default class (unknown traffic), link rate
//     1:2   exempt ports (TCP/UDP, either port), link rate
//     1:3   blocked: its leaf is pfifo limit 0, so everything sent there drops
//     1:<slot+0x10>  one class per limited device, rate = ceil = its rate,
//                    leaf bfifo holding at most ~100 ms at that rate
//
// Filters (u32, lower prio number first):
//   prio 1000+slot   a Blocked device -> 1:3 (before the exempt ports)
//   prio 10000/10001 exempt ports, IPv4 / IPv6 -> 1:2
//   prio 20000+slot  a limited device -> its class
// Each device filter has a prio of its own, so removing it is one
// `tc filter del ... prio N` and slot numbers make every id collision-free.
// Only HTB, u32, pfifo/bfifo, ingress, mirred and ifb are needed (no flower,
// matchall or gact, which some kernels lack).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/datapath/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "agent/fallback/command_shaper.h"

namespace bwalloc {

// Slots 1..kTcMaxDevices: block prios stay below the exempt prio (10000),
// class minors and leaf handles below 0xffff.
inline constexpr uint32_t kTcMaxDevices = 8000;
inline constexpr uint64_t kTcMinBitsPerSec = 1'000;
inline constexpr uint64_t kTcMaxBitsPerSec = 400'000'000'000ull;  // 400 Gbit/s

struct TcShaperConfig {
  std::string lan_interface = "lan0";
  std::string ifb_interface = "bwalloc-ifb0";
  std::vector<ProtocolPort> priority_ports = default_priority_ports();
  uint64_t link_bits_per_sec = 10'000'000'000ull;  // ceiling of the default, exempt and blocked classes
  uint32_t max_devices = kTcMaxDevices;
};

// What the shaper believes the kernel holds.
struct TcState {
  bool installed = false;  // the fixed tree (qdiscs, fixed classes, exempt filters, ifb)
  struct Device {
    uint32_t slot = 0;
    DevicePolicy policy;
    bool operator==(const Device&) const = default;
  };
  std::map<IpAddress, Device> devices;
  bool operator==(const TcState&) const = default;
};

struct TcPlan {
  std::vector<Command> commands;
  TcState next;  // the state once every command ran
};

// Names per IFNAMSIZ and a conservative charset, rates within bounds,
// exempt protocols TCP or UDP and ports non-zero.
[[nodiscard]] Result<void> validate_tc_config(const TcShaperConfig& config);

// The commands from `previous` to exactly `wanted` (devices not listed get
// nothing). Validates everything first; on error no command is returned.
// When `previous` is not installed the plan starts with the teardown and
// builds the fixed tree. Same input twice: no commands the second time.
[[nodiscard]] Result<TcPlan> tc_commands(const TcState& previous, const std::vector<DevicePolicy>& wanted,
                                         const TcShaperConfig& config);

// Removes the whole tree and the ifb device; every command may fail (the
// thing may already be gone).
std::vector<Command> tc_teardown_commands(const TcShaperConfig& config);

class TcShaper final : public CommandShaper {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TcShaper>> create(TcShaperConfig config);

  std::string name() const override { return "tc"; }
  [[nodiscard]] Result<std::vector<Command>> plan(const std::vector<DevicePolicy>& wanted) const override;
  void commit(const std::vector<DevicePolicy>& wanted) override;
  void invalidate() override { state_ = TcState{}; }
  std::vector<Command> teardown() override;
  [[nodiscard]] Result<void> update_priority_ports(const std::vector<ProtocolPort>& ports) override;

  const TcState& state() const { return state_; }
  const TcShaperConfig& config() const { return config_; }

 private:
  explicit TcShaper(TcShaperConfig config) : config_(std::move(config)) {}
  TcShaperConfig config_;
  TcState state_;
};

}  // namespace bwalloc
