// Header parser of the pcap datapath: from a captured frame (Ethernet, up to
// two VLAN tags, IPv4 with options or IPv6 with a bounded walk over its
// extension headers, TCP/UDP ports) to the few facts the counters need.
// Pure, bounds-checked before every read; nothing of the payload is kept.
#pragma once

#include <cstddef>
#include <cstdint>

#include "agent/common/ip_address.h"

namespace bwalloc {

enum class ParseOutcome {
  Ok,
  NotIp,      // ARP, LLDP and the like: no device traffic to count
  Malformed,  // truncated or inconsistent headers
};

struct ParsedPacket {
  IpAddress src;
  IpAddress dst;
  uint32_t wire_length = 0;  // the frame's length on the wire (pcap's len)
  uint8_t protocol = 0;      // IPPROTO_* of the transport header
  bool has_ports = false;    // TCP or UDP, first fragment
  uint16_t src_port = 0;     // host byte order
  uint16_t dst_port = 0;
};

struct ParseResult {
  ParseOutcome outcome = ParseOutcome::Malformed;
  ParsedPacket packet;  // meaningful when outcome == Ok
};

// `data` holds the `captured` bytes pcap kept (the snap length cuts the
// rest); `wire_length` is how long the frame was on the wire.
ParseResult parse_frame(const uint8_t* data, size_t captured, uint32_t wire_length);

}  // namespace bwalloc
