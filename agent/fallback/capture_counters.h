// CaptureCounters: the pcap datapath's per-device counting, pure. A parsed
// packet counts "up" for its source when that source is a device of the
// LAN (inside a prefix of the LAN interface, not one of the router's own
// addresses, a unicast device address) and "down" for its destination by
// the same rule (a prefix's IPv4 broadcast address is no device). A TCP or
// UDP packet with a priority port at either end counts in the priority
// bytes too, one with an unlimited port in the unlimited bytes (both, for a
// port on both lists), as the eBPF datapath counts them. Bounded: past
// max_devices new devices are not counted.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"
#include "agent/fallback/packet_parser.h"

namespace bwalloc {

// A network prefix over the 16-byte form (IPv4 lengths count from 96).
struct LanPrefix {
  IpAddress network;
  int length = 0;  // 0..128
  bool contains(const IpAddress& address) const;
  bool operator==(const LanPrefix&) const = default;
};

// Builds the prefix from an address and its family's prefix length (/24
// for IPv4 becomes 120 here).
LanPrefix make_lan_prefix(const IpAddress& address, int family_length);

// The LAN interface's own addresses and the prefixes they sit in.
struct LanAddresses {
  std::vector<LanPrefix> prefixes;
  std::vector<IpAddress> own;
  bool operator==(const LanAddresses&) const = default;
};

bool is_lan_device(const LanAddresses& lan, const IpAddress& address);

class CaptureCounters {
 public:
  explicit CaptureCounters(uint32_t max_devices) : max_devices_(max_devices) {}

  void set_lan(LanAddresses lan) { lan_ = std::move(lan); }
  void set_priority_ports(std::vector<ProtocolPort> ports) { priority_ports_ = std::move(ports); }
  void set_unlimited_ports(std::vector<ProtocolPort> ports) { unlimited_ports_ = std::move(ports); }
  // Upload packets of a blocked device count as blocked drops (the shaper
  // drops them after the capture point), not as traffic.
  void set_blocked(std::unordered_set<IpAddress> blocked) { blocked_ = std::move(blocked); }

  void count(const ParsedPacket& packet, uint64_t now_ns);
  void count_unparsed() { ++unparsed_; }

  std::vector<DeviceCounters> snapshot(uint64_t now_ns) const;
  size_t devices() const { return entries_.size(); }
  uint64_t unparsed() const { return unparsed_; }
  uint64_t insert_failures() const { return insert_failures_; }
  uint64_t new_devices() const { return new_devices_; }

 private:
  struct Entry {
    DeviceCounters counters;
    uint64_t last_seen_ns = 0;
  };
  Entry* entry_for(const IpAddress& address);
  static bool on_port(const ParsedPacket& packet, const std::vector<ProtocolPort>& ports);

  uint32_t max_devices_;
  LanAddresses lan_;
  std::vector<ProtocolPort> priority_ports_;
  std::vector<ProtocolPort> unlimited_ports_;
  std::unordered_set<IpAddress> blocked_;
  std::unordered_map<IpAddress, Entry> entries_;
  uint64_t unparsed_ = 0;
  uint64_t insert_failures_ = 0;
  uint64_t new_devices_ = 0;
};

}  // namespace bwalloc
