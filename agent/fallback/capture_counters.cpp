// See capture_counters.h.
#include "agent/fallback/capture_counters.h"

#include <algorithm>

namespace bwalloc {

bool LanPrefix::contains(const IpAddress& address) const {
  const auto& a = address.bytes();
  const auto& n = network.bytes();
  int bits = std::clamp(length, 0, 128);
  for (size_t i = 0; bits > 0; ++i, bits -= 8) {
    const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((a[i] & mask) != (n[i] & mask)) return false;
  }
  return true;
}

LanPrefix make_lan_prefix(const IpAddress& address, int family_length) {
  const int length = address.is_v4() ? 96 + std::clamp(family_length, 0, 32) : std::clamp(family_length, 0, 128);
  auto bytes = address.bytes();
  int bits = length;
  for (auto& b : bytes) {
    if (bits >= 8) {
      bits -= 8;
      continue;
    }
    b = bits > 0 ? static_cast<uint8_t>(b & (0xff << (8 - bits))) : 0;
    bits = 0;
  }
  return LanPrefix{IpAddress(bytes), length};
}

namespace {
// The all-ones host part of an IPv4 prefix up to /30 is its broadcast.
bool is_directed_broadcast(const LanPrefix& prefix, const IpAddress& address) {
  if (!address.is_v4() || prefix.length > 96 + 30) return false;
  const auto& a = address.bytes();
  for (int bit = prefix.length; bit < 128; ++bit) {
    if (!(a[static_cast<size_t>(bit / 8)] & (0x80 >> (bit % 8)))) return false;
  }
  return true;
}
}  // namespace

bool is_lan_device(const LanAddresses& lan, const IpAddress& address) {
  if (!address.is_device_address()) return false;
  if (std::find(lan.own.begin(), lan.own.end(), address) != lan.own.end()) return false;
  return std::any_of(lan.prefixes.begin(), lan.prefixes.end(),
                     [&](const LanPrefix& p) { return p.contains(address) && !is_directed_broadcast(p, address); });
}

CaptureCounters::Entry* CaptureCounters::entry_for(const IpAddress& address) {
  auto found = entries_.find(address);
  if (found != entries_.end()) return &found->second;
  if (entries_.size() >= max_devices_) {
    ++insert_failures_;
    return nullptr;
  }
  ++new_devices_;
  Entry& e = entries_[address];
  e.counters.address = address;
  return &e;
}

bool CaptureCounters::on_port(const ParsedPacket& packet, const std::vector<ProtocolPort>& ports) {
  if (!packet.has_ports) return false;
  return std::any_of(ports.begin(), ports.end(), [&](const ProtocolPort& e) {
    return e.protocol == packet.protocol && (e.port == packet.src_port || e.port == packet.dst_port);
  });
}

void CaptureCounters::count(const ParsedPacket& packet, uint64_t now_ns) {
  const bool priority = on_port(packet, priority_ports_);
  const bool unlimited = on_port(packet, unlimited_ports_);
  if (is_lan_device(lan_, packet.src)) {
    if (Entry* e = entry_for(packet.src)) {
      e->last_seen_ns = now_ns;
      if (blocked_.count(packet.src)) {
        ++e->counters.blocked_drops;
      } else {
        e->counters.up_bytes += packet.wire_length;
        ++e->counters.up_packets;
        if (priority) e->counters.up_priority_bytes += packet.wire_length;
        if (unlimited) e->counters.up_unlimited_bytes += packet.wire_length;
      }
    }
  }
  if (is_lan_device(lan_, packet.dst)) {
    if (Entry* e = entry_for(packet.dst)) {
      e->last_seen_ns = now_ns;
      e->counters.down_bytes += packet.wire_length;
      ++e->counters.down_packets;
      if (priority) e->counters.down_priority_bytes += packet.wire_length;
      if (unlimited) e->counters.down_unlimited_bytes += packet.wire_length;
    }
  }
}

std::vector<DeviceCounters> CaptureCounters::snapshot(uint64_t now_ns) const {
  std::vector<DeviceCounters> out;
  out.reserve(entries_.size());
  for (const auto& [address, e] : entries_) {
    DeviceCounters c = e.counters;
    c.last_seen_age_ns = now_ns > e.last_seen_ns ? now_ns - e.last_seen_ns : 0;
    out.push_back(c);
  }
  return out;
}

}  // namespace bwalloc
