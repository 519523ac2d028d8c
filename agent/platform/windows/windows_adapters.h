// The LAN adapter on Windows: config names it as Windows shows it
// ("Ethernet", "Wi-Fi"), by its GUID, or by Npcap's device name; this finds
// Npcap's name for it and its addresses and prefixes (GetAdaptersAddresses).
#pragma once

#include <string>

#include "agent/common/result.h"
#include "agent/fallback/capture_counters.h"

namespace bwalloc {

struct WindowsAdapter {
  std::string friendly_name;  // "Ethernet"
  std::string npcap_device;   // "\Device\NPF_{GUID}"
  LanAddresses addresses;
};

// An error lists the adapters there are, so the operator can pick one.
[[nodiscard]] Result<WindowsAdapter> find_windows_adapter(const std::string& name);

}  // namespace bwalloc
