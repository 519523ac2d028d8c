// GetAdaptersAddresses lookup; see windows_adapters.h.
#include "agent/platform/windows/windows_adapters.h"

#include <winsock2.h>
#include <iphlpapi.h>
#include <ws2tcpip.h>
// objbase.h defines `interface` as a keyword-like macro; our structs use it as a field name.
#undef interface

#include <array>
#include <cstring>
#include <vector>

#include "agent/platform/windows/wide_string.h"

namespace bwalloc {

namespace {
constexpr std::string_view kNpcapPrefix = "\\Device\\NPF_";

std::optional<IpAddress> to_address(const SOCKADDR* sa) {
  std::array<uint8_t, 16> bytes{};
  if (sa->sa_family == AF_INET) {
    bytes[10] = bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, 4);
  } else if (sa->sa_family == AF_INET6) {
    std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, 16);
  } else {
    return std::nullopt;
  }
  return IpAddress(bytes);
}
}  // namespace

Result<WindowsAdapter> find_windows_adapter(const std::string& name) {
  const ULONG flags = GAA_FLAG_SKIP_ANYCAST | GAA_FLAG_SKIP_MULTICAST | GAA_FLAG_SKIP_DNS_SERVER;
  ULONG size = 16 * 1024;
  std::vector<unsigned char> buffer;
  ULONG rc = ERROR_BUFFER_OVERFLOW;
  for (int attempt = 0; attempt < 3 && rc == ERROR_BUFFER_OVERFLOW; ++attempt) {
    buffer.resize(size);
    rc = GetAdaptersAddresses(AF_UNSPEC, flags, nullptr, reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()), &size);
  }
  if (rc != NO_ERROR) return make_error("list network adapters", win32_error_text(rc));
  const std::string wanted_guid = name.starts_with(kNpcapPrefix) ? name.substr(kNpcapPrefix.size()) : name;
  std::string known;
  for (auto* a = reinterpret_cast<IP_ADAPTER_ADDRESSES*>(buffer.data()); a; a = a->Next) {
    const std::string friendly = to_utf8(a->FriendlyName ? a->FriendlyName : L"");
    const std::string guid = a->AdapterName ? a->AdapterName : "";
    if (a->IfType == IF_TYPE_SOFTWARE_LOOPBACK) continue;
    known += (known.empty() ? "" : ", ") + ("\"" + friendly + "\"");
    if (friendly != name && guid != wanted_guid) continue;
    WindowsAdapter adapter{friendly, std::string(kNpcapPrefix) + guid, {}};
    for (auto* u = a->FirstUnicastAddress; u; u = u->Next) {
      auto address = to_address(u->Address.lpSockaddr);
      if (!address) continue;
      adapter.addresses.own.push_back(*address);
      if (u->OnLinkPrefixLength > 0) {
        adapter.addresses.prefixes.push_back(make_lan_prefix(*address, u->OnLinkPrefixLength));
      }
    }
    return adapter;
  }
  return Error{"no network adapter named \"" + name + "\" (set datapath.lan_interface to one of: " +
               (known.empty() ? std::string("none found") : known) + ")"};
}

}  // namespace bwalloc
