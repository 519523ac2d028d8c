// See packet_parser.h. Same rules as bpf/lib/parse.h: up to two VLAN tags,
// IPv4 options skipped by IHL, at most six IPv6 extension headers walked,
// ports only from a first fragment.
#include "agent/fallback/packet_parser.h"

#include <array>
#include <cstring>

namespace bwalloc {

namespace {
constexpr uint16_t kEthIpv4 = 0x0800;
constexpr uint16_t kEthIpv6 = 0x86dd;
constexpr uint16_t kEthVlan = 0x8100;
constexpr uint16_t kEthQinQ = 0x88a8;
constexpr int kMaxVlanTags = 2;
constexpr int kMaxIpv6Extensions = 6;
constexpr uint8_t kProtoHopByHop = 0;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoRouting = 43;
constexpr uint8_t kProtoFragment = 44;
constexpr uint8_t kProtoDestOptions = 60;

// A bounds-checked view of the captured bytes.
class Bytes {
 public:
  Bytes(const uint8_t* data, size_t size) : data_(data), size_(size) {}
  bool has(size_t offset, size_t length) const { return offset <= size_ && length <= size_ - offset; }
  uint8_t u8(size_t offset) const { return data_[offset]; }
  uint16_t u16(size_t offset) const { return static_cast<uint16_t>(data_[offset] << 8 | data_[offset + 1]); }
  const uint8_t* at(size_t offset) const { return data_ + offset; }

 private:
  const uint8_t* data_;
  size_t size_;
};

bool is_extension(uint8_t next) {
  return next == kProtoHopByHop || next == kProtoRouting || next == kProtoDestOptions || next == kProtoFragment;
}

ParseResult malformed() { return ParseResult{ParseOutcome::Malformed, {}}; }

ParseResult parse_ports(const Bytes& b, size_t l4, ParseResult result) {
  ParsedPacket& p = result.packet;
  if (p.protocol != kProtoTcp && p.protocol != kProtoUdp) return result;
  if (!b.has(l4, 4)) return malformed();
  p.src_port = b.u16(l4);
  p.dst_port = b.u16(l4 + 2);
  p.has_ports = true;
  return result;
}

ParseResult parse_ipv4(const Bytes& b, size_t l3, ParseResult result) {
  if (!b.has(l3, 20)) return malformed();
  const uint8_t version_ihl = b.u8(l3);
  const size_t ihl_bytes = static_cast<size_t>(version_ihl & 0x0f) * 4;
  if ((version_ihl >> 4) != 4 || ihl_bytes < 20 || !b.has(l3, ihl_bytes)) return malformed();
  std::array<uint8_t, 16> src{}, dst{};
  src[10] = src[11] = dst[10] = dst[11] = 0xff;
  std::memcpy(src.data() + 12, b.at(l3 + 12), 4);
  std::memcpy(dst.data() + 12, b.at(l3 + 16), 4);
  result.packet.src = IpAddress(src);
  result.packet.dst = IpAddress(dst);
  result.packet.protocol = b.u8(l3 + 9);
  const bool later_fragment = (b.u16(l3 + 6) & 0x1fff) != 0;
  if (later_fragment) return result;
  return parse_ports(b, l3 + ihl_bytes, result);
}

ParseResult parse_ipv6(const Bytes& b, size_t l3, ParseResult result) {
  if (!b.has(l3, 40)) return malformed();
  if ((b.u8(l3) >> 4) != 6) return malformed();
  std::array<uint8_t, 16> src{}, dst{};
  std::memcpy(src.data(), b.at(l3 + 8), 16);
  std::memcpy(dst.data(), b.at(l3 + 24), 16);
  result.packet.src = IpAddress(src);
  result.packet.dst = IpAddress(dst);
  uint8_t next = b.u8(l3 + 6);
  size_t cursor = l3 + 40;
  for (int i = 0; i < kMaxIpv6Extensions && is_extension(next); ++i) {
    if (!b.has(cursor, 8)) return malformed();
    if (next == kProtoFragment) {
      const bool later_fragment = (b.u16(cursor + 2) & 0xfff8) != 0;
      next = b.u8(cursor);
      cursor += 8;
      if (later_fragment) {
        result.packet.protocol = next;
        return result;
      }
    } else {
      const size_t length = (static_cast<size_t>(b.u8(cursor + 1)) + 1) * 8;
      next = b.u8(cursor);
      cursor += length;
    }
  }
  if (is_extension(next)) return malformed();  // more extension headers than we walk
  result.packet.protocol = next;
  return parse_ports(b, cursor, result);
}
}  // namespace

ParseResult parse_frame(const uint8_t* data, size_t captured, uint32_t wire_length) {
  Bytes b(data, captured);
  if (!b.has(0, 14)) return malformed();
  size_t offset = 12;
  uint16_t ethertype = b.u16(offset);
  for (int tags = 0; tags < kMaxVlanTags && (ethertype == kEthVlan || ethertype == kEthQinQ); ++tags) {
    offset += 4;
    if (!b.has(offset, 2)) return malformed();
    ethertype = b.u16(offset);
  }
  const size_t l3 = offset + 2;
  ParseResult result{ParseOutcome::Ok, {}};
  result.packet.wire_length = wire_length;
  if (ethertype == kEthIpv4) return parse_ipv4(b, l3, result);
  if (ethertype == kEthIpv6) return parse_ipv6(b, l3, result);
  if (ethertype == kEthVlan || ethertype == kEthQinQ) return malformed();  // a third tag
  return ParseResult{ParseOutcome::NotIp, {}};
}

}  // namespace bwalloc
