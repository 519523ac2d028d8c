// Frame construction for the BPF tests; see packet_builder.h.
#include "tests/bpf/packet_builder.h"

#include <arpa/inet.h>

#include <cstring>

namespace bwalloc::test {

namespace {
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}

void put_bytes(std::vector<uint8_t>& out, const void* data, size_t len) {
  auto* p = static_cast<const uint8_t*>(data);
  out.insert(out.end(), p, p + len);
}

void put_l4(std::vector<uint8_t>& out, const PacketSpec& spec) {
  if (spec.protocol == 6) {
    put16(out, spec.src_port);
    put16(out, spec.dst_port);
    for (int i = 0; i < 8; ++i) out.push_back(0);  // seq, ack
    out.push_back(5 << 4);                         // data offset: 20 bytes
    out.push_back(0x10);                           // ACK
    put16(out, 65535);
    put16(out, 0);
    put16(out, 0);
  } else if (spec.protocol == 17) {
    put16(out, spec.src_port);
    put16(out, spec.dst_port);
    put16(out, static_cast<uint16_t>(8 + spec.payload));
    put16(out, 0);
  } else {  // ICMP / ICMPv6 echo request
    out.push_back(spec.ipv6 ? 128 : 8);
    out.push_back(0);
    put16(out, 0);
    put16(out, 1);
    put16(out, 1);
  }
  out.insert(out.end(), spec.payload, 0xab);
}

size_t l4_header_size(const PacketSpec& spec) { return spec.protocol == 6 ? 20 : 8; }
}  // namespace

std::vector<uint8_t> build_packet(const PacketSpec& spec) {
  std::vector<uint8_t> out;
  const uint8_t dst_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
  const uint8_t src_mac[6] = {0x02, 0, 0, 0, 0, 0x02};
  put_bytes(out, dst_mac, 6);
  put_bytes(out, src_mac, 6);
  for (size_t i = 0; i < spec.vlan_tpids.size(); ++i) {
    put16(out, spec.vlan_tpids[i]);
    put16(out, static_cast<uint16_t>(100 + i));  // TCI: VLAN id
  }
  put16(out, spec.ipv6 ? 0x86dd : 0x0800);

  size_t l4_len = l4_header_size(spec) + spec.payload;
  if (!spec.ipv6) {
    size_t ihl = 20 + spec.ipv4_option_bytes;
    out.push_back(static_cast<uint8_t>(0x40 | (ihl / 4)));
    out.push_back(spec.ecn & 3);
    put16(out, static_cast<uint16_t>(ihl + l4_len));
    put16(out, 0);
    put16(out, 0x4000);  // DF, not a fragment
    out.push_back(64);
    out.push_back(spec.protocol);
    put16(out, 0);
    in_addr a{};
    inet_pton(AF_INET, spec.src.c_str(), &a);
    put_bytes(out, &a, 4);
    inet_pton(AF_INET, spec.dst.c_str(), &a);
    put_bytes(out, &a, 4);
    for (size_t i = 0; i < spec.ipv4_option_bytes; ++i) out.push_back(1);  // NOP options
  } else {
    uint32_t first = (6u << 28) | (static_cast<uint32_t>(spec.ecn & 3) << 20);
    put16(out, static_cast<uint16_t>(first >> 16));
    put16(out, static_cast<uint16_t>(first));
    put16(out, static_cast<uint16_t>(l4_len + 8 * spec.ipv6_hop_by_hop_headers));
    out.push_back(spec.ipv6_hop_by_hop_headers > 0 ? 0 : spec.protocol);
    out.push_back(64);
    in6_addr a{};
    inet_pton(AF_INET6, spec.src.c_str(), &a);
    put_bytes(out, &a, 16);
    inet_pton(AF_INET6, spec.dst.c_str(), &a);
    put_bytes(out, &a, 16);
    for (int i = 0; i < spec.ipv6_hop_by_hop_headers; ++i) {
      bool last = i + 1 == spec.ipv6_hop_by_hop_headers;
      out.push_back(last ? spec.protocol : 0);  // next header
      out.push_back(0);                         // length: 8 bytes
      out.insert(out.end(), 6, 0);              // PadN-free padding (Pad1 x6)
    }
  }
  put_l4(out, spec);
  return out;
}

std::vector<uint8_t> build_arp() {
  std::vector<uint8_t> out(12, 0xff);
  put16(out, 0x0806);
  out.insert(out.end(), 28, 0);
  return out;
}

}  // namespace bwalloc::test
