// Discovery on Windows: there is no netlink neighbour table to scan, so
// "Scan LAN" says so and devices appear as the capture sees their traffic
// (the agent adds every address the datapath counts). See
// agent/discovery/discovery.h.
#include "agent/discovery/discovery.h"

namespace bwalloc {

// Only a name on Windows: Discovery holds a pointer to it that stays null.
class RtnlSocket {};

Result<std::unique_ptr<Discovery>> Discovery::open(const std::string&, const std::string&, std::string, bool) {
  return Error{"neighbour discovery is not available on Windows (devices appear as the capture sees their traffic)"};
}

// Discovery::open never makes one here, so no ReverseDns is ever built
// either; its destructor is only named by Discovery's.
ReverseDns::~ReverseDns() = default;
Discovery::~Discovery() = default;

Result<std::vector<DiscoveredDevice>> Discovery::scan() {
  return Error{"neighbour discovery is not available on Windows (devices appear as the capture sees their traffic)"};
}

}  // namespace bwalloc
