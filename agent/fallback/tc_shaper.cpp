// See tc_shaper.h for the tree. Every token in a command is either a fixed
// word, a number formatted here, an interface name that passed
// validate_tc_config, or an address printed by IpAddress.
#include "agent/fallback/tc_shaper.h"

#include <algorithm>
#include <cstdio>
#include <set>

namespace bwalloc {

namespace {
constexpr uint32_t kDefaultMinor = 1;
constexpr uint32_t kExemptMinor = 2;
constexpr uint32_t kBlockedMinor = 3;
constexpr uint32_t kDeviceMinorBase = 0x10;
constexpr uint32_t kBlockPrioBase = 1000;
constexpr uint32_t kExemptPrioV4 = 10000;
constexpr uint32_t kExemptPrioV6 = 10001;
constexpr uint32_t kDevicePrioBase = 20000;
constexpr uint64_t kQueueMillis = 100;      // a device's queue holds about this much at its rate
constexpr uint64_t kMinQueueBytes = 15140;  // ten full frames, so slow classes still pass TCP
constexpr uint64_t kMaxQueueBytes = 16u << 20;
constexpr uint64_t kMinQuantum = 1600;
constexpr uint64_t kMaxQuantum = 200000;  // HTB warns above this

std::string hex(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%x", v);
  return buf;
}

std::string classid(uint32_t minor) { return "1:" + hex(minor); }
std::string rate_text(uint64_t bits_per_sec) { return std::to_string(bits_per_sec) + "bit"; }
std::string quantum_text(uint64_t bits_per_sec) {
  return std::to_string(std::clamp<uint64_t>(bits_per_sec / 80, kMinQuantum, kMaxQuantum));
}
std::string queue_bytes_text(uint64_t bits_per_sec) {
  return std::to_string(std::clamp<uint64_t>(bits_per_sec / 8 * kQueueMillis / 1000, kMinQueueBytes, kMaxQueueBytes));
}

Command cmd(std::vector<std::string> argv, bool may_fail = false) { return Command{std::move(argv), may_fail}; }

Result<void> validate_interface(const std::string& key, const std::string& name) {
  // IFNAMSIZ is 16 with the terminating NUL.
  if (name.empty() || name.size() > 15) {
    return Error{key + " must be 1 to 15 characters, found \"" + name.substr(0, 32) + "\""};
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    if (!ok) return Error{key + " \"" + name + "\" may hold only letters, digits, '-', '_' and '.'"};
  }
  if (name[0] == '-' || name == "." || name == "..") {
    return Error{key + " \"" + name + "\" is not a usable interface name"};
  }
  return {};
}

Result<void> validate_rate(const std::string& what, uint64_t bits_per_sec) {
  if (bits_per_sec < kTcMinBitsPerSec || bits_per_sec > kTcMaxBitsPerSec) {
    return Error{what + " " + std::to_string(bits_per_sec) + " bit/s is outside " + std::to_string(kTcMinBitsPerSec) +
                 " bit/s .. " + std::to_string(kTcMaxBitsPerSec / 1'000'000'000) + " Gbit/s"};
  }
  return {};
}

// What one direction of a device's policy becomes in the tree.
struct Shape {
  enum Kind { None, Block, Limit } kind = None;
  uint64_t rate = 0;
  bool operator==(const Shape&) const = default;
};

Shape shape_of(const DevicePolicy& p, bool upload) {
  if (p.priority == Priority::Blocked) return {Shape::Block, 0};
  if (p.exempt_all) return {};
  const uint64_t rate = upload ? p.up_rate_bits_per_sec : p.down_rate_bits_per_sec;
  if (rate == 0) return {};
  return {Shape::Limit, rate};
}

// One shaped interface: the LAN interface (download, match destination)
// or the ifb device (upload, match source).
struct Side {
  const std::string& dev;
  bool upload;
};

struct Match {
  std::string protocol;  // tc's "protocol" word
  std::vector<std::string> selector;
};

Match device_match(const IpAddress& address, bool upload) {
  const char* field = upload ? "src" : "dst";
  if (address.is_v4()) return {"ip", {"match", "ip", field, address.to_string() + "/32"}};
  return {"ipv6", {"match", "ip6", field, address.to_string() + "/128"}};
}

Command filter_add(const Side& side, uint32_t prio, const Match& match, uint32_t minor) {
  std::vector<std::string> argv = {"tc", "filter", "add", "dev", side.dev, "parent", "1:", "protocol", match.protocol,
                                   "prio", std::to_string(prio), "u32"};
  argv.insert(argv.end(), match.selector.begin(), match.selector.end());
  argv.insert(argv.end(), {"classid", classid(minor)});
  return cmd(std::move(argv));
}

Command filter_del(const Side& side, uint32_t prio, const std::string& protocol) {
  return cmd({"tc", "filter", "del", "dev", side.dev, "parent", "1:", "protocol", protocol, "prio", std::to_string(prio)});
}

Command class_cmd(const char* verb, const Side& side, uint32_t minor, uint64_t rate) {
  return cmd({"tc", "class", verb, "dev", side.dev, "parent", "1:", "classid", classid(minor), "htb", "rate",
              rate_text(rate), "ceil", rate_text(rate), "quantum", quantum_text(rate)});
}

Command leaf_cmd(const char* verb, const Side& side, uint32_t minor, uint64_t rate) {
  return cmd({"tc", "qdisc", verb, "dev", side.dev, "parent", classid(minor), "handle", hex(minor) + ":", "bfifo",
              "limit", queue_bytes_text(rate)});
}

// The commands that move one direction of one device from `from` to `to`.
// Blocks go in before what they replace is taken out, so a device being
// blocked never passes unshaped in between.
void transition(std::vector<Command>& out, const Side& side, const IpAddress& address, uint32_t slot, Shape from,
                Shape to) {
  if (from == to) return;
  const Match match = device_match(address, side.upload);
  const uint32_t minor = kDeviceMinorBase + slot;
  const uint32_t block_prio = kBlockPrioBase + slot;
  const uint32_t device_prio = kDevicePrioBase + slot;
  if (to.kind == Shape::Block) out.push_back(filter_add(side, block_prio, match, kBlockedMinor));
  if (from.kind == Shape::Limit && to.kind == Shape::Limit) {
    out.push_back(class_cmd("change", side, minor, to.rate));
    out.push_back(leaf_cmd("change", side, minor, to.rate));
    return;
  }
  if (to.kind == Shape::Limit) {
    out.push_back(class_cmd("add", side, minor, to.rate));
    out.push_back(leaf_cmd("add", side, minor, to.rate));
    out.push_back(filter_add(side, device_prio, match, minor));
  }
  if (from.kind == Shape::Limit) {
    out.push_back(filter_del(side, device_prio, match.protocol));
    out.push_back(cmd({"tc", "class", "del", "dev", side.dev, "parent", "1:", "classid", classid(minor)}));
  }
  if (from.kind == Shape::Block) out.push_back(filter_del(side, block_prio, match.protocol));
}

void fixed_tree(std::vector<Command>& out, const Side& side, const TcShaperConfig& config) {
  const uint64_t link = config.link_bits_per_sec;
  out.push_back(cmd({"tc", "qdisc", "add", "dev", side.dev, "root", "handle", "1:", "htb", "default", hex(kDefaultMinor)}));
  for (uint32_t minor : {kDefaultMinor, kExemptMinor, kBlockedMinor}) out.push_back(class_cmd("add", side, minor, link));
  out.push_back(cmd({"tc", "qdisc", "add", "dev", side.dev, "parent", classid(kBlockedMinor), "handle",
                     hex(kBlockedMinor) + ":", "pfifo", "limit", "0"}));
  for (const auto& port : config.priority_ports) {
    const std::string proto = std::to_string(port.protocol);
    const std::string number = std::to_string(port.port);
    for (const char* which : {"sport", "dport"}) {
      // IPv4: only an unfragmented-or-first fragment without options has
      // its ports at offset 20 (packets with options fall to their class).
      out.push_back(filter_add(side, kExemptPrioV4,
                               {"ip",
                                {"match", "ip", "protocol", proto, "0xff", "match", "u8", "0x05", "0x0f", "at", "0",
                                 "match", "u16", "0x0000", "0x1fff", "at", "6", "match", "ip", which, number, "0xffff"}},
                               kExemptMinor));
    }
    for (const char* which : {"sport", "dport"}) {
      out.push_back(filter_add(side, kExemptPrioV6,
                               {"ipv6", {"match", "ip6", "protocol", proto, "0xff", "match", "ip6", which, number, "0xffff"}},
                               kExemptMinor));
    }
  }
}
}  // namespace

Result<void> validate_tc_config(const TcShaperConfig& config) {
  if (auto r = validate_interface("LAN interface", config.lan_interface); !r) return r;
  if (auto r = validate_interface("ifb interface", config.ifb_interface); !r) return r;
  if (config.lan_interface == config.ifb_interface) {
    return Error{"the ifb interface must differ from the LAN interface (" + config.lan_interface + ")"};
  }
  if (auto r = validate_rate("link rate", config.link_bits_per_sec); !r) return r;
  if (config.max_devices == 0 || config.max_devices > kTcMaxDevices) {
    return Error{"the tc shaper holds 1 to " + std::to_string(kTcMaxDevices) + " devices, asked for " +
                 std::to_string(config.max_devices)};
  }
  for (const auto& p : config.priority_ports) {
    if ((p.protocol != 6 && p.protocol != 17) || p.port == 0) {
      return Error{"exempt port " + std::to_string(p.protocol) + "/" + std::to_string(p.port) +
                   " must be TCP (6) or UDP (17) with a port from 1 to 65535"};
    }
  }
  return {};
}

std::vector<Command> tc_teardown_commands(const TcShaperConfig& config) {
  return {
      cmd({"tc", "qdisc", "del", "dev", config.lan_interface, "root"}, true),
      cmd({"tc", "qdisc", "del", "dev", config.lan_interface, "ingress"}, true),
      cmd({"ip", "link", "del", "dev", config.ifb_interface}, true),
  };
}

Result<TcPlan> tc_commands(const TcState& previous, const std::vector<DevicePolicy>& wanted,
                           const TcShaperConfig& config) {
  if (auto valid = validate_tc_config(config); !valid) return valid.error();
  std::map<IpAddress, DevicePolicy> wanted_by_address;
  for (const auto& p : wanted) {
    if (!p.address.is_device_address()) {
      return Error{"cannot shape " + p.address.to_string() + ": not a unicast device address"};
    }
    for (uint64_t rate : {p.up_rate_bits_per_sec, p.down_rate_bits_per_sec}) {
      if (rate != 0 && p.priority != Priority::Blocked && !p.exempt_all) {
        if (auto r = validate_rate("rate of " + p.address.to_string(), rate); !r) return r.error();
      }
    }
    wanted_by_address[p.address] = p;  // the last one listed wins
  }
  if (wanted_by_address.size() > config.max_devices) {
    return Error{"the tc shaper holds at most " + std::to_string(config.max_devices) + " devices, " +
                 std::to_string(wanted_by_address.size()) + " wanted"};
  }

  TcPlan plan;
  TcState current = previous.installed ? previous : TcState{};
  const Side down{config.lan_interface, false};
  const Side up{config.ifb_interface, true};
  if (!current.installed) {
    plan.commands = tc_teardown_commands(config);
    plan.commands.push_back(cmd({"ip", "link", "add", "name", config.ifb_interface, "type", "ifb"}));
    plan.commands.push_back(cmd({"ip", "link", "set", "dev", config.ifb_interface, "up"}));
    fixed_tree(plan.commands, down, config);
    fixed_tree(plan.commands, up, config);
    plan.commands.push_back(cmd({"tc", "qdisc", "add", "dev", config.lan_interface, "handle", "ffff:", "ingress"}));
    plan.commands.push_back(cmd({"tc", "filter", "add", "dev", config.lan_interface, "parent", "ffff:", "protocol",
                                 "all", "prio", "1", "u32", "match", "u32", "0", "0", "action", "mirred", "egress",
                                 "redirect", "dev", config.ifb_interface}));
    current.installed = true;
  }

  // Devices that leave go first, so the slots they free can be reused below.
  std::set<uint32_t> used;
  for (auto it = current.devices.begin(); it != current.devices.end();) {
    const auto& [address, device] = *it;
    if (wanted_by_address.count(address)) {
      used.insert(device.slot);
      ++it;
      continue;
    }
    transition(plan.commands, down, address, device.slot, shape_of(device.policy, false), {});
    transition(plan.commands, up, address, device.slot, shape_of(device.policy, true), {});
    it = current.devices.erase(it);
  }
  uint32_t candidate = 1;
  for (const auto& [address, policy] : wanted_by_address) {
    auto found = current.devices.find(address);
    Shape old_down, old_up;
    uint32_t slot = 0;
    if (found != current.devices.end()) {
      slot = found->second.slot;
      old_down = shape_of(found->second.policy, false);
      old_up = shape_of(found->second.policy, true);
    } else {
      while (used.count(candidate)) ++candidate;
      slot = candidate;
      used.insert(slot);
    }
    transition(plan.commands, down, address, slot, old_down, shape_of(policy, false));
    transition(plan.commands, up, address, slot, old_up, shape_of(policy, true));
    current.devices[address] = TcState::Device{slot, policy};
  }
  plan.next = std::move(current);
  return plan;
}

Result<std::unique_ptr<TcShaper>> TcShaper::create(TcShaperConfig config) {
  if (auto valid = validate_tc_config(config); !valid) return valid.error();
  return std::unique_ptr<TcShaper>(new TcShaper(std::move(config)));
}

Result<std::vector<Command>> TcShaper::plan(const std::vector<DevicePolicy>& wanted) const {
  auto planned = tc_commands(state_, wanted, config_);
  if (!planned) return planned.error();
  return std::move(planned->commands);
}

void TcShaper::commit(const std::vector<DevicePolicy>& wanted) {
  auto planned = tc_commands(state_, wanted, config_);
  if (planned) state_ = std::move(planned->next);
}

std::vector<Command> TcShaper::teardown() {
  state_ = TcState{};
  return tc_teardown_commands(config_);
}

Result<void> TcShaper::update_priority_ports(const std::vector<ProtocolPort>& ports) {
  if (ports == config_.priority_ports) return {};
  TcShaperConfig changed = config_;
  changed.priority_ports = ports;
  if (auto valid = validate_tc_config(changed); !valid) return valid;
  config_ = std::move(changed);
  // The exempt filters are part of the fixed tree: rebuild it, devices and all.
  state_ = TcState{};
  return {};
}

}  // namespace bwalloc
