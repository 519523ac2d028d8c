// getifaddrs reader; see router_addresses.h.
#include "agent/runtime/router_addresses.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>

namespace bwalloc {

namespace {
std::optional<IpAddress> to_address(const sockaddr* sa) {
  if (!sa) return std::nullopt;
  std::array<uint8_t, 16> bytes{};
  if (sa->sa_family == AF_INET) {
    bytes[10] = bytes[11] = 0xff;  // IPv4-mapped, as IpAddress keeps it
    std::memcpy(bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  } else {
    return std::nullopt;
  }
  return IpAddress(bytes);
}
}  // namespace

Result<std::vector<IpAddress>> read_router_addresses() {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Error{std::string("read the router's addresses (getifaddrs): ") + strerror(errno)};
  std::vector<IpAddress> out;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (auto own = to_address(a->ifa_addr)) out.push_back(*own);
    if ((a->ifa_flags & IFF_BROADCAST) && a->ifa_addr && a->ifa_addr->sa_family == AF_INET) {
      if (auto broadcast = to_address(a->ifa_broadaddr)) out.push_back(*broadcast);
    }
  }
  freeifaddrs(list);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace bwalloc
