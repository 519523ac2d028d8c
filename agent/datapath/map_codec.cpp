// Agent <-> map layout conversions; see map_codec.h.
#include "agent/datapath/map_codec.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

namespace bwalloc {

bwa_addr to_bwa_addr(const IpAddress& address) {
  bwa_addr addr{};
  std::memcpy(addr.bytes, address.bytes().data(), sizeof addr.bytes);
  return addr;
}

IpAddress from_bwa_addr(const bwa_addr& addr) {
  std::array<uint8_t, 16> bytes{};
  std::memcpy(bytes.data(), addr.bytes, bytes.size());
  return IpAddress(bytes);
}

uint64_t rate_bytes_per_sec(uint64_t bits_per_sec) {
  if (bits_per_sec == 0) return 0;
  return std::max<uint64_t>(1, bits_per_sec / 8);
}

bwa_policy encode_policy(const DevicePolicy& policy, uint32_t slot) {
  bwa_policy value{};
  value.rate_bytes_per_sec[BWA_DIR_UP] = rate_bytes_per_sec(policy.up_rate_bits_per_sec);
  value.rate_bytes_per_sec[BWA_DIR_DOWN] = rate_bytes_per_sec(policy.down_rate_bits_per_sec);
  value.slot = slot;
  value.priority = static_cast<uint8_t>(policy.priority);
  value.flags = static_cast<uint8_t>((policy.priority == Priority::Blocked ? BWA_POLICY_BLOCKED : 0u) |
                                     (policy.exempt_all ? BWA_POLICY_EXEMPT_ALL : 0u));
  return value;
}

DevicePolicy decode_policy(const IpAddress& address, const bwa_policy& value) {
  DevicePolicy policy;
  policy.address = address;
  policy.priority = value.priority <= BWA_PRIO_LOW ? static_cast<Priority>(value.priority) : Priority::Normal;
  if (value.flags & BWA_POLICY_BLOCKED) policy.priority = Priority::Blocked;
  policy.up_rate_bits_per_sec = value.rate_bytes_per_sec[BWA_DIR_UP] * 8;
  policy.down_rate_bits_per_sec = value.rate_bytes_per_sec[BWA_DIR_DOWN] * 8;
  policy.exempt_all = (value.flags & BWA_POLICY_EXEMPT_ALL) != 0;
  return policy;
}

DeviceCounters sum_per_cpu_counters(const IpAddress& address, std::span<const bwa_counters> per_cpu,
                                    uint64_t now_mono_ns) {
  DeviceCounters d;
  d.address = address;
  uint64_t last_seen = 0;
  for (const bwa_counters& c : per_cpu) {
    d.up_bytes += c.bytes[BWA_DIR_UP];
    d.down_bytes += c.bytes[BWA_DIR_DOWN];
    d.up_packets += c.packets[BWA_DIR_UP];
    d.down_packets += c.packets[BWA_DIR_DOWN];
    d.up_priority_bytes += c.priority_bytes[BWA_DIR_UP];
    d.down_priority_bytes += c.priority_bytes[BWA_DIR_DOWN];
    d.up_unlimited_bytes += c.unlimited_bytes[BWA_DIR_UP];
    d.down_unlimited_bytes += c.unlimited_bytes[BWA_DIR_DOWN];
    d.sparse_packets += c.sparse_packets[BWA_DIR_UP] + c.sparse_packets[BWA_DIR_DOWN];
    d.fair_drops += c.fair_drops[BWA_DIR_UP] + c.fair_drops[BWA_DIR_DOWN];
    d.blocked_drops += c.blocked_drops[BWA_DIR_UP] + c.blocked_drops[BWA_DIR_DOWN];
    d.horizon_drops += c.horizon_drops[BWA_DIR_UP] + c.horizon_drops[BWA_DIR_DOWN];
    d.ce_marks += c.ce_marks[BWA_DIR_UP] + c.ce_marks[BWA_DIR_DOWN];
    last_seen = std::max<uint64_t>(last_seen, c.last_seen_ns);
  }
  d.last_seen_age_ns = last_seen != 0 && now_mono_ns > last_seen ? now_mono_ns - last_seen : 0;
  return d;
}

std::vector<uint64_t> port_class_bitmap(const std::vector<ProtocolPort>& priority,
                                        const std::vector<ProtocolPort>& unlimited) {
  std::vector<uint64_t> words(BWA_PORT_WORDS, 0);
  auto mark = [&](const std::vector<ProtocolPort>& ports, uint64_t port_class) {
    for (const ProtocolPort& port : ports) {
      if (port.protocol != IPPROTO_TCP && port.protocol != IPPROTO_UDP) continue;
      words[bwa_port_word(port.protocol == IPPROTO_UDP, port.port)] |= port_class << bwa_port_shift(port.port);
    }
  };
  mark(priority, BWA_PORT_PRIORITY);
  mark(unlimited, BWA_PORT_UNLIMITED);
  return words;
}

}  // namespace bwalloc
