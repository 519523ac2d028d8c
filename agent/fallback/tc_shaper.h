// TcShaper: the Linux CommandShaper. A pure builder, tc_commands(), turns
// the committed state and the policies the agent wants into `tc`/`ip` argv
// vectors; TcShaper keeps the committed state between plans.
//
// The guarantees are the eBPF datapath's: every byte of a limited device
// counts against its limit whatever the port; its priority ports go first;
// only the operator's unlimited ports escape the limit; Blocked drops all.
//
// The tree, the same on both shaped interfaces:
//   LAN interface egress: download, filters match the destination address.
//   ifb device egress: upload; LAN ingress is redirected to it (u32 match-all
//   + mirred), filters match the source address.
//
//   root 1: htb default 1
//     1:1   default class (unknown traffic), link rate
//     1:2   unlimited ports (the operator's list, empty by default), link rate
//     1:3   blocked: its leaf is pfifo limit 0, so everything sent there drops
//     1:<0x10+slot>    a limited device, ALL its traffic: rate = ceil = its limit
//       1:<0x4000+slot>  its priority ports: prio 0, rate a quarter of the
//                        limit, ceil the limit
//       1:<0x8000+slot>  everything else: prio 1, rate the other three
//                        quarters, ceil the limit
// Both children borrow up to the device's limit and never beyond it: alone,
// either gets the whole limit; together, each keeps its rate and the
// priority child takes what the other leaves. Within its rate the priority
// child is served first, so a sparse flow (DNS, SSH keystrokes, NTP) on a
// priority port overtakes the device's bulk. Leaves (handle = the child's
// minor): fq_codel where the kernel has it (flow isolation inside each
// child: a 443 download does not delay the device's DNS), otherwise bfifo
// holding about 100 ms at the limit (then a bulk flow on a priority port
// shares one FIFO with that port's sparse flows).
//
// Filters on the root (u32, lower prio number first), each family (IPv4,
// IPv6) at a prio of its own. A device is not a filter prio but an entry in
// u32 address tables of 256 buckets, hashed on the last byte of its address
// (the last 32-bit word of the destination on the LAN interface, of the
// source on the ifb device): a packet finds its device's entry in a bucket
// whatever the number of devices, and a qdisc could not hold one prio per
// device anyway (u32 runs out of ids at 2,047 prios).
//   prio 1000/1001    every packet -> the block table 30: / 31:; a Blocked
//                     device's entry -> 1:3 (before every port filter)
//   prio 10000/10001  unlimited ports (TCP/UDP, either port) -> 1:2
//   prio 14000/14001  priority ports (TCP/UDP, either port) -> the priority
//                     table 40: / 41: (held at prio 15000/15001); a limited
//                     device's entry -> its priority child
//   prio 20000/20001  every packet -> the bulk table 80: / 81:; a limited
//                     device's entry -> its bulk child
// A packet whose device has no entry in a table goes on to the next prio
// (at the end: the default class). A device's entries have the handle
// <table>:<bucket>:<node>, its node the lowest free one among the devices
// whose address ends in the same byte, so every id is collision-free and
// removing an entry is one command. A limited device costs two entries per
// interface, a Blocked one one, whatever the number of ports; a change of
// ports replaces only the port filters (one `tc filter del ... prio N` per
// family, then one add per port and direction): devices keep their classes
// and entries, and no block lifts meanwhile. Only HTB, u32, pfifo/bfifo,
// ingress, mirred and ifb are needed (fq_codel when present; no flower,
// matchall or gact, which some kernels lack).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "agent/fallback/command_shaper.h"

namespace bwalloc {

// Slots 1..kTcMaxDevices keep the three class minors of a slot apart and
// below 0xffff.
inline constexpr uint32_t kTcMaxDevices = 8000;
inline constexpr uint64_t kTcMinBitsPerSec = 1'000;
inline constexpr uint64_t kTcMaxBitsPerSec = 400'000'000'000ull;  // 400 Gbit/s

// The qdisc under each child class of a device.
enum class TcLeaf {
  Bfifo,    // every kernel with HTB has it
  FqCodel,  // flow isolation inside the class; not every kernel has it
};

struct TcShaperConfig {
  std::string lan_interface = "lan0";
  std::string ifb_interface = "bwalloc-ifb0";
  std::vector<ProtocolPort> priority_ports = default_priority_ports();
  std::vector<ProtocolPort> unlimited_ports;
  uint64_t link_bits_per_sec = 10'000'000'000ull;  // ceiling of the default, unlimited and blocked classes
  uint32_t max_devices = kTcMaxDevices;
  TcLeaf leaf = TcLeaf::Bfifo;
};

// What the shaper believes the kernel holds.
struct TcState {
  bool installed = false;  // the fixed tree (qdiscs, fixed classes, tables and their links, ifb)
  // The port filters installed (changed in place, see the header comment).
  std::vector<ProtocolPort> priority_ports;
  std::vector<ProtocolPort> unlimited_ports;
  struct Device {
    uint32_t slot = 0;
    uint32_t node = 0;  // its entries' node in its bucket of each table (1..0xfff)
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
// port protocols TCP or UDP and ports non-zero.
[[nodiscard]] Result<void> validate_tc_config(const TcShaperConfig& config);

// The commands from `previous` to exactly `wanted` (devices not listed get
// nothing) and to the config's port lists. Validates everything first; on
// error no command is returned. When `previous` is not installed the plan
// starts with the teardown and builds the fixed tree. Same input twice: no
// commands the second time.
[[nodiscard]] Result<TcPlan> tc_commands(const TcState& previous, const std::vector<DevicePolicy>& wanted,
                                         const TcShaperConfig& config);

// Removes the whole tree and the ifb device; every command may fail (the
// thing may already be gone).
std::vector<Command> tc_teardown_commands(const TcShaperConfig& config);

// Whether the kernel can make an fq_codel leaf, tried on a short-lived ifb
// device of bwalloc's own (`probe_interface`), so nothing an operator set up
// is touched: the one command whose success says yes, and the clean-ups
// around it (may_fail).
struct TcLeafProbe {
  std::vector<Command> before;  // leftovers removed, the device made
  Command probe;                // succeeds iff fq_codel exists
  std::vector<Command> after;   // the device removed
};
TcLeafProbe tc_fq_codel_probe(const std::string& probe_interface);

class TcShaper final : public CommandShaper {
 public:
  [[nodiscard]] static Result<std::unique_ptr<TcShaper>> create(TcShaperConfig config);

  std::string name() const override { return "tc"; }
  [[nodiscard]] Result<std::vector<Command>> plan(const std::vector<DevicePolicy>& wanted) const override;
  void commit(const std::vector<DevicePolicy>& wanted) override;
  void invalidate() override { state_ = TcState{}; }
  std::vector<Command> teardown() override;
  [[nodiscard]] Result<void> update_ports(const std::vector<ProtocolPort>& priority,
                                          const std::vector<ProtocolPort>& unlimited) override;

  const TcState& state() const { return state_; }
  const TcShaperConfig& config() const { return config_; }

 private:
  explicit TcShaper(TcShaperConfig config) : config_(std::move(config)) {}
  TcShaperConfig config_;
  TcState state_;
};

const char* tc_leaf_name(TcLeaf leaf);

}  // namespace bwalloc
