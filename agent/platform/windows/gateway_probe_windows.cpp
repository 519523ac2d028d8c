// The two system-specific parts of GatewayProber on Windows: the default
// gateway from the IPv4 routing table (GetIpForwardTable) and one echo
// through the ICMP helper (IcmpSendEcho), which needs no raw socket and no
// administrator rights. The loop and the window summary are shared with
// Linux in agent/metrics/gateway_prober.cpp.
#include <winsock2.h>
#include <iphlpapi.h>
#include <icmpapi.h>
#include <ws2tcpip.h>

#include <cstring>
#include <vector>

#include "agent/metrics/gateway_prober.h"

namespace bwalloc {

Result<std::optional<IpAddress>> default_gateway_v4() {
  ULONG size = 0;
  if (GetIpForwardTable(nullptr, &size, FALSE) != ERROR_INSUFFICIENT_BUFFER) return std::optional<IpAddress>{};
  std::vector<unsigned char> buffer(size);
  auto* table = reinterpret_cast<MIB_IPFORWARDTABLE*>(buffer.data());
  if (DWORD rc = GetIpForwardTable(table, &size, TRUE); rc != NO_ERROR) {
    return Error{"read the routing table: GetIpForwardTable failed with " + std::to_string(rc)};
  }
  // Sorted: the first 0.0.0.0/0 route is the one Windows prefers.
  for (DWORD i = 0; i < table->dwNumEntries; ++i) {
    const MIB_IPFORWARDROW& row = table->table[i];
    if (row.dwForwardDest == 0 && row.dwForwardMask == 0 && row.dwForwardNextHop != 0) {
      return std::optional<IpAddress>{IpAddress::from_v4(ntohl(row.dwForwardNextHop))};
    }
  }
  return std::optional<IpAddress>{};
}

std::optional<double> GatewayProber::probe_once(const IpAddress& target, uint16_t) {
  HANDLE icmp = IcmpCreateFile();
  if (icmp == INVALID_HANDLE_VALUE) return std::nullopt;
  IPAddr to;
  std::memcpy(&to, target.bytes().data() + 12, 4);
  char payload[8] = "bwalloc";
  unsigned char reply[sizeof(ICMP_ECHO_REPLY) + sizeof payload + 8 + 64];
  std::optional<double> rtt;
  const auto sent_at = std::chrono::steady_clock::now();
  if (IcmpSendEcho(icmp, to, payload, sizeof payload, nullptr, reply, sizeof reply, 1000) > 0) {
    auto* echo = reinterpret_cast<ICMP_ECHO_REPLY*>(reply);
    // RoundTripTime has millisecond resolution; measure it ourselves for more.
    if (echo->Status == IP_SUCCESS) {
      rtt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at).count();
    }
  }
  IcmpCloseHandle(icmp);
  return rtt;
}

}  // namespace bwalloc
