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
constexpr uint32_t kUnlimitedMinor = 2;
constexpr uint32_t kBlockedMinor = 3;
constexpr uint32_t kDeviceMinorBase = 0x10;
constexpr uint32_t kPriorityMinorBase = 0x4000;
constexpr uint32_t kBulkMinorBase = 0x8000;
// Filter prios (tc's order) and the u32 address tables they hold, per
// family; see the header comment.
constexpr uint32_t kBlockPrioV4 = 1000;
constexpr uint32_t kBlockPrioV6 = 1001;
constexpr uint32_t kUnlimitedPrioV4 = 10000;
constexpr uint32_t kUnlimitedPrioV6 = 10001;
constexpr uint32_t kPriorityPortPrioV4 = 14000;
constexpr uint32_t kPriorityPortPrioV6 = 14001;
constexpr uint32_t kPriorityTablePrioV4 = 15000;
constexpr uint32_t kPriorityTablePrioV6 = 15001;
constexpr uint32_t kBulkPrioV4 = 20000;
constexpr uint32_t kBulkPrioV6 = 20001;
// u32 table ids, below the 0x800.. that u32 picks itself (which run out at
// 2,047 filter prios per qdisc: why devices get entries, not prios).
constexpr uint32_t kBlockTableV4 = 0x30;
constexpr uint32_t kBlockTableV6 = 0x31;
constexpr uint32_t kPriorityTableV4 = 0x40;
constexpr uint32_t kPriorityTableV6 = 0x41;
constexpr uint32_t kBulkTableV4 = 0x80;
constexpr uint32_t kBulkTableV6 = 0x81;
constexpr uint32_t kMaxNode = 0xfff;        // u32 node ids are 12 bits
constexpr uint64_t kPriorityShare = 4;      // the priority child's rate is the limit / this
constexpr uint64_t kQueueMillis = 100;      // a bfifo leaf holds about this much at the limit
constexpr uint64_t kMinQueueBytes = 15140;  // ten full frames, so slow classes still pass TCP
constexpr uint64_t kMaxQueueBytes = 16u << 20;
constexpr uint64_t kMinQuantum = 1600;
constexpr uint64_t kMaxQuantum = 200000;  // HTB warns above this
constexpr uint64_t kFullFrame = 1514;
// fq_codel leaves: a flow table per leaf sized for one device's flows (the
// kernel allocates it per leaf: 128 flows are about 9 KiB), bounds that
// scale with the limit (the default 10,240 packets / 32 MiB per leaf would
// let a flood hold gigabytes over thousands of leaves), and codel's target
// raised at low rates to 1.5 frame times, as sqm-scripts do, with the
// interval raised alike.
constexpr uint32_t kFqCodelFlows = 128;
constexpr uint64_t kFqCodelMinPackets = 128;
constexpr uint64_t kFqCodelMaxPackets = 10240;
constexpr uint64_t kFqCodelMinMemory = 1u << 20;
constexpr uint64_t kFqCodelMaxMemory = 32u << 20;
constexpr uint64_t kCodelTargetUs = 5000;
constexpr uint64_t kCodelIntervalUs = 100000;

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
uint64_t queue_bytes(uint64_t bits_per_sec) {
  return std::clamp<uint64_t>(bits_per_sec / 8 * kQueueMillis / 1000, kMinQueueBytes, kMaxQueueBytes);
}

Command cmd(std::vector<std::string> argv, bool may_fail = false) { return Command{std::move(argv), may_fail}; }

Result<void> validate_interface(const std::string& key, const std::string& name) {
  // IFNAMSIZ is 16 with the terminating NUL.
  if (name.empty() || name.size() > 15) {
    return Error{key + " must be 1 to 15 characters, found \"" + name.substr(0, 32) + "\""};
  }
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
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

Result<void> validate_ports(const std::string& what, const std::vector<ProtocolPort>& ports) {
  for (const auto& p : ports) {
    if ((p.protocol != 6 && p.protocol != 17) || p.port == 0) {
      return Error{what + " " + std::to_string(p.protocol) + "/" + std::to_string(p.port) +
                   " must be TCP (6) or UDP (17) with a port from 1 to 65535"};
    }
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

// The three address tables a device can have an entry in.
enum class Table { Block, Priority, Bulk };

struct TableIds {
  uint32_t id;
  uint32_t prio;  // the filter prio that holds the table (and its entries)
};

TableIds table_ids(Table table, bool v4) {
  switch (table) {
    case Table::Block:
      return v4 ? TableIds{kBlockTableV4, kBlockPrioV4} : TableIds{kBlockTableV6, kBlockPrioV6};
    case Table::Priority:
      return v4 ? TableIds{kPriorityTableV4, kPriorityTablePrioV4} : TableIds{kPriorityTableV6, kPriorityTablePrioV6};
    case Table::Bulk:
      break;
  }
  return v4 ? TableIds{kBulkTableV4, kBulkPrioV4} : TableIds{kBulkTableV6, kBulkPrioV6};
}

// A device's bucket: its address's last byte, which is what every link into
// a table hashes on.
uint32_t bucket_of(const IpAddress& address) { return address.bytes()[15]; }

// Where the links hash: the last 32-bit word of the device's address, the
// destination on the LAN interface, the source on the ifb device.
const char* hash_offset(bool v4, bool upload) { return v4 ? (upload ? "12" : "16") : (upload ? "20" : "36"); }

std::vector<std::string> link_to(uint32_t table, bool v4, bool upload) {
  return {"link", hex(table) + ":", "hashkey", "mask", "0x000000ff", "at", hash_offset(v4, upload)};
}

std::vector<std::string> filter_head(const Side& side, const std::string& verb, const std::string& protocol,
                                     uint32_t prio) {
  return {"tc", "filter", verb, "dev", side.dev, "parent", "1:", "protocol", protocol, "prio", std::to_string(prio)};
}

Command filter_add(const Side& side, uint32_t prio, const Match& match, uint32_t minor) {
  std::vector<std::string> argv = filter_head(side, "add", match.protocol, prio);
  argv.push_back("u32");
  argv.insert(argv.end(), match.selector.begin(), match.selector.end());
  argv.insert(argv.end(), {"classid", classid(minor)});
  return cmd(std::move(argv));
}

// Deletes every filter of one prio: all the port filters of one family.
Command filter_del(const Side& side, uint32_t prio, const std::string& protocol) {
  return cmd(filter_head(side, "del", protocol, prio));
}

// A device's entry in one of its family's tables: handle table:bucket:node.
std::string entry_handle(Table table, const IpAddress& address, uint32_t node) {
  return hex(table_ids(table, address.is_v4()).id) + ":" + hex(bucket_of(address)) + ":" + hex(node);
}

Command entry_add(const Side& side, Table table, const IpAddress& address, uint32_t node, uint32_t minor) {
  const Match match = device_match(address, side.upload);
  const TableIds ids = table_ids(table, address.is_v4());
  std::vector<std::string> argv = filter_head(side, "add", match.protocol, ids.prio);
  const std::string bucket = hex(ids.id) + ":" + hex(bucket_of(address)) + ":";
  argv.insert(argv.end(), {"handle", entry_handle(table, address, node), "u32", "ht", bucket});
  argv.insert(argv.end(), match.selector.begin(), match.selector.end());
  argv.insert(argv.end(), {"classid", classid(minor)});
  return cmd(std::move(argv));
}

Command entry_del(const Side& side, Table table, const IpAddress& address, uint32_t node) {
  const TableIds ids = table_ids(table, address.is_v4());
  std::vector<std::string> argv = filter_head(side, "del", address.is_v4() ? "ip" : "ipv6", ids.prio);
  argv.insert(argv.end(), {"handle", entry_handle(table, address, node), "u32"});
  return cmd(std::move(argv));
}

// The classes of one limited device: its parent, and the two children that
// share its limit.
struct DeviceClass {
  uint32_t minor;
  uint32_t parent;  // 0: the root
  uint64_t rate;
  uint64_t ceil;
  int prio;  // -1: none (the device's own class)
};

std::vector<DeviceClass> device_classes(uint32_t slot, uint64_t limit) {
  const uint64_t priority_rate = std::max<uint64_t>(limit / kPriorityShare, 1);
  const uint32_t device = kDeviceMinorBase + slot;
  return {{device, 0, limit, limit, -1},
          {kPriorityMinorBase + slot, device, priority_rate, limit, 0},
          {kBulkMinorBase + slot, device, limit - priority_rate, limit, 1}};
}

Command class_cmd(const char* verb, const Side& side, const DeviceClass& c) {
  std::vector<std::string> argv = {
      "tc",      "class",          verb,  "dev",  side.dev,          "parent", c.parent ? classid(c.parent) : "1:",
      "classid", classid(c.minor), "htb", "rate", rate_text(c.rate), "ceil",   rate_text(c.ceil)};
  if (c.prio >= 0) argv.insert(argv.end(), {"prio", std::to_string(c.prio)});
  argv.insert(argv.end(), {"quantum", quantum_text(c.rate)});
  return cmd(std::move(argv));
}

Command fixed_class(const Side& side, uint32_t minor, uint64_t rate) {
  return class_cmd("add", side, DeviceClass{minor, 0, rate, rate, -1});
}

Command class_del(const Side& side, const DeviceClass& c) {
  return cmd({"tc", "class", "del", "dev", side.dev, "parent", c.parent ? classid(c.parent) : "1:", "classid",
              classid(c.minor)});
}

// A child's leaf; `limit` is the device's, which either child may reach.
Command leaf_cmd(const char* verb, const Side& side, uint32_t minor, uint64_t limit, TcLeaf leaf) {
  std::vector<std::string> argv = {"tc",     "qdisc",        verb,     "dev",           side.dev,
                                   "parent", classid(minor), "handle", hex(minor) + ":"};
  const uint64_t bytes = queue_bytes(limit);
  if (leaf == TcLeaf::Bfifo) {
    argv.insert(argv.end(), {"bfifo", "limit", std::to_string(bytes)});
    return cmd(std::move(argv));
  }
  const uint64_t packets = std::clamp<uint64_t>(4 * bytes / kFullFrame, kFqCodelMinPackets, kFqCodelMaxPackets);
  const uint64_t memory = std::clamp<uint64_t>(8 * bytes, kFqCodelMinMemory, kFqCodelMaxMemory);
  const uint64_t frame_us = kFullFrame * 8 * 1'000'000 / limit;
  const uint64_t target_us = std::max<uint64_t>(kCodelTargetUs, frame_us * 3 / 2);
  const uint64_t interval_us = kCodelIntervalUs + (target_us - kCodelTargetUs);
  argv.insert(argv.end(), {"fq_codel", "limit", std::to_string(packets)});
  // The flow table is sized once: fq_codel refuses to change it.
  if (std::string(verb) == "add") argv.insert(argv.end(), {"flows", std::to_string(kFqCodelFlows)});
  argv.insert(argv.end(), {"target", std::to_string(target_us) + "us", "interval", std::to_string(interval_us) + "us",
                           "memory_limit", std::to_string(memory)});
  return cmd(std::move(argv));
}

// The commands that move one direction of one device from `from` to `to`.
// A block goes in before what it replaces is taken out, so a device being
// blocked never passes unshaped in between; classes go in before the
// entries that lead to them and out after.
void transition(std::vector<Command>& out, const Side& side, const IpAddress& address, const TcState::Device& device,
                Shape from, Shape to, TcLeaf leaf) {
  if (from == to) return;
  if (to.kind == Shape::Block) out.push_back(entry_add(side, Table::Block, address, device.node, kBlockedMinor));
  if (from.kind == Shape::Limit && to.kind == Shape::Limit) {
    const auto classes = device_classes(device.slot, to.rate);
    for (const auto& c : classes) out.push_back(class_cmd("change", side, c));
    for (size_t i = 1; i < classes.size(); ++i)
      out.push_back(leaf_cmd("change", side, classes[i].minor, to.rate, leaf));
    return;
  }
  if (to.kind == Shape::Limit) {
    const auto classes = device_classes(device.slot, to.rate);
    out.push_back(class_cmd("add", side, classes[0]));
    for (size_t i = 1; i < classes.size(); ++i) {
      out.push_back(class_cmd("add", side, classes[i]));
      out.push_back(leaf_cmd("add", side, classes[i].minor, to.rate, leaf));
    }
    out.push_back(entry_add(side, Table::Priority, address, device.node, classes[1].minor));
    out.push_back(entry_add(side, Table::Bulk, address, device.node, classes[2].minor));
  }
  if (from.kind == Shape::Limit) {
    const auto classes = device_classes(device.slot, from.rate);
    out.push_back(entry_del(side, Table::Bulk, address, device.node));
    out.push_back(entry_del(side, Table::Priority, address, device.node));
    out.push_back(class_del(side, classes[1]));
    out.push_back(class_del(side, classes[2]));
    out.push_back(class_del(side, classes[0]));
  }
  if (from.kind == Shape::Block) out.push_back(entry_del(side, Table::Block, address, device.node));
}

// The selectors of one port, either way: IPv4 first, then IPv6.
struct PortMatch {
  bool v6;
  std::vector<std::string> selector;
};

std::vector<PortMatch> port_matches(const ProtocolPort& port) {
  const std::string proto = std::to_string(port.protocol);
  const std::string number = std::to_string(port.port);
  std::vector<PortMatch> out;
  for (const char* which : {"sport", "dport"}) {
    // IPv4: only an unfragmented-or-first fragment without options has
    // its ports at offset 20 (packets with options fall to their class).
    out.push_back(
        {false, {"match", "ip",  "protocol", proto,    "0xff", "match", "u8",    "0x05", "0x0f", "at",   "0",
                 "match", "u16", "0x0000",   "0x1fff", "at",   "6",     "match", "ip",   which,  number, "0xffff"}});
  }
  for (const char* which : {"sport", "dport"}) {
    out.push_back({true, {"match", "ip6", "protocol", proto, "0xff", "match", "ip6", which, number, "0xffff"}});
  }
  return out;
}

// Unlimited ports: straight to the class at link rate.
void add_unlimited_filters(std::vector<Command>& out, const Side& side, const std::vector<ProtocolPort>& ports) {
  for (const auto& port : ports) {
    for (const auto& m : port_matches(port)) {
      out.push_back(filter_add(side, m.v6 ? kUnlimitedPrioV6 : kUnlimitedPrioV4, {m.v6 ? "ipv6" : "ip", m.selector},
                               kUnlimitedMinor));
    }
  }
}

// Priority ports: into the family's priority table, where only limited
// devices have an entry.
void add_priority_filters(std::vector<Command>& out, const Side& side, const std::vector<ProtocolPort>& ports) {
  for (const auto& port : ports) {
    for (const auto& m : port_matches(port)) {
      std::vector<std::string> argv =
          filter_head(side, "add", m.v6 ? "ipv6" : "ip", m.v6 ? kPriorityPortPrioV6 : kPriorityPortPrioV4);
      argv.push_back("u32");
      argv.insert(argv.end(), m.selector.begin(), m.selector.end());
      const auto link = link_to(m.v6 ? kPriorityTableV6 : kPriorityTableV4, !m.v6, side.upload);
      argv.insert(argv.end(), link.begin(), link.end());
      out.push_back(cmd(std::move(argv)));
    }
  }
}

// A table of one family at `prio`, 256 buckets; with `link_all`, also the
// filter that sends every packet of the family into it.
void add_table(std::vector<Command>& out, const Side& side, Table table, bool v4, bool link_all) {
  const TableIds ids = table_ids(table, v4);
  const char* protocol = v4 ? "ip" : "ipv6";
  std::vector<std::string> argv = filter_head(side, "add", protocol, ids.prio);
  argv.insert(argv.end(), {"handle", hex(ids.id) + ":", "u32", "divisor", "256"});
  out.push_back(cmd(std::move(argv)));
  if (!link_all) return;
  argv = filter_head(side, "add", protocol, ids.prio);
  argv.insert(argv.end(), {"u32", "match", "u32", "0", "0"});
  const auto link = link_to(ids.id, v4, side.upload);
  argv.insert(argv.end(), link.begin(), link.end());
  out.push_back(cmd(std::move(argv)));
}

// Replaces one kind of port filter in place: the old ones go one prio per
// family at a time (only where some were installed), then the new ones.
void change_port_filters(std::vector<Command>& out, const Side& side, const std::vector<ProtocolPort>& from,
                         const std::vector<ProtocolPort>& to, uint32_t prio_v4, uint32_t prio_v6, bool priority) {
  if (from == to) return;
  if (!from.empty()) {
    out.push_back(filter_del(side, prio_v4, "ip"));
    out.push_back(filter_del(side, prio_v6, "ipv6"));
  }
  if (priority) {
    add_priority_filters(out, side, to);
  } else {
    add_unlimited_filters(out, side, to);
  }
}

void fixed_tree(std::vector<Command>& out, const Side& side, const TcShaperConfig& config) {
  const uint64_t link = config.link_bits_per_sec;
  out.push_back(
      cmd({"tc", "qdisc", "add", "dev", side.dev, "root", "handle", "1:", "htb", "default", hex(kDefaultMinor)}));
  for (uint32_t minor : {kDefaultMinor, kUnlimitedMinor, kBlockedMinor}) out.push_back(fixed_class(side, minor, link));
  out.push_back(cmd({"tc", "qdisc", "add", "dev", side.dev, "parent", classid(kBlockedMinor), "handle",
                     hex(kBlockedMinor) + ":", "pfifo", "limit", "0"}));
  for (bool v4 : {true, false}) add_table(out, side, Table::Block, v4, true);
  for (bool v4 : {true, false}) add_table(out, side, Table::Priority, v4, false);
  for (bool v4 : {true, false}) add_table(out, side, Table::Bulk, v4, true);
  add_unlimited_filters(out, side, config.unlimited_ports);
  add_priority_filters(out, side, config.priority_ports);
}

// The lowest node no other device of the same table and bucket holds.
Result<uint32_t> free_node(const std::map<IpAddress, TcState::Device>& devices, const IpAddress& address) {
  std::set<uint32_t> taken;
  for (const auto& [other, device] : devices) {
    if (other.is_v4() == address.is_v4() && bucket_of(other) == bucket_of(address)) taken.insert(device.node);
  }
  for (uint32_t node = 1; node <= kMaxNode; ++node) {
    if (!taken.count(node)) return node;
  }
  return Error{"the tc shaper holds at most " + std::to_string(kMaxNode) + " devices whose address ends in byte " +
               std::to_string(bucket_of(address)) + "; " + address.to_string() + " is one more"};
}
}  // namespace

const char* tc_leaf_name(TcLeaf leaf) { return leaf == TcLeaf::FqCodel ? "fq_codel" : "bfifo"; }

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
  if (auto r = validate_ports("priority port", config.priority_ports); !r) return r;
  return validate_ports("unlimited port", config.unlimited_ports);
}

std::vector<Command> tc_teardown_commands(const TcShaperConfig& config) {
  return {
      cmd({"tc", "qdisc", "del", "dev", config.lan_interface, "root"}, true),
      cmd({"tc", "qdisc", "del", "dev", config.lan_interface, "ingress"}, true),
      cmd({"ip", "link", "del", "dev", config.ifb_interface}, true),
  };
}

TcLeafProbe tc_fq_codel_probe(const std::string& probe_interface) {
  TcLeafProbe p;
  p.before = {cmd({"ip", "link", "del", "dev", probe_interface}, true),
              cmd({"ip", "link", "add", "name", probe_interface, "type", "ifb"})};
  p.probe = cmd({"tc", "qdisc", "add", "dev", probe_interface, "root", "handle", "1:", "fq_codel"});
  p.after = {cmd({"ip", "link", "del", "dev", probe_interface}, true)};
  return p;
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
    plan.commands.push_back(cmd({"tc",
                                 "filter",
                                 "add",
                                 "dev",
                                 config.lan_interface,
                                 "parent",
                                 "ffff:",
                                 "protocol",
                                 "all",
                                 "prio",
                                 "1",
                                 "u32",
                                 "match",
                                 "u32",
                                 "0",
                                 "0",
                                 "action",
                                 "mirred",
                                 "egress",
                                 "redirect",
                                 "dev",
                                 config.ifb_interface}));
    current.installed = true;
    current.priority_ports = config.priority_ports;
    current.unlimited_ports = config.unlimited_ports;
  }
  for (const Side& side : {down, up}) {
    change_port_filters(plan.commands, side, current.unlimited_ports, config.unlimited_ports, kUnlimitedPrioV4,
                        kUnlimitedPrioV6, false);
    change_port_filters(plan.commands, side, current.priority_ports, config.priority_ports, kPriorityPortPrioV4,
                        kPriorityPortPrioV6, true);
  }
  current.unlimited_ports = config.unlimited_ports;
  current.priority_ports = config.priority_ports;

  // Devices that leave go first, so the slots and nodes they free can be
  // reused below.
  std::set<uint32_t> used;
  for (auto it = current.devices.begin(); it != current.devices.end();) {
    const auto& [address, device] = *it;
    if (wanted_by_address.count(address)) {
      used.insert(device.slot);
      ++it;
      continue;
    }
    transition(plan.commands, down, address, device, shape_of(device.policy, false), {}, config.leaf);
    transition(plan.commands, up, address, device, shape_of(device.policy, true), {}, config.leaf);
    it = current.devices.erase(it);
  }
  uint32_t candidate = 1;
  for (const auto& [address, policy] : wanted_by_address) {
    auto found = current.devices.find(address);
    Shape old_down, old_up;
    TcState::Device device;
    if (found != current.devices.end()) {
      device = found->second;
      old_down = shape_of(device.policy, false);
      old_up = shape_of(device.policy, true);
    } else {
      while (used.count(candidate)) ++candidate;
      device.slot = candidate;
      used.insert(device.slot);
      auto node = free_node(current.devices, address);
      if (!node) return node.error();
      device.node = *node;
    }
    device.policy = policy;
    transition(plan.commands, down, address, device, old_down, shape_of(policy, false), config.leaf);
    transition(plan.commands, up, address, device, old_up, shape_of(policy, true), config.leaf);
    current.devices[address] = device;
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

Result<void> TcShaper::update_ports(const std::vector<ProtocolPort>& priority,
                                    const std::vector<ProtocolPort>& unlimited) {
  TcShaperConfig changed = config_;
  changed.priority_ports = priority;
  changed.unlimited_ports = unlimited;
  if (auto valid = validate_tc_config(changed); !valid) return valid;
  // The next plan replaces the port filters in place (tc_commands compares
  // the state's ports with the config's).
  config_ = std::move(changed);
  return {};
}

}  // namespace bwalloc
