// Discovery: which devices are on the LAN and what they are called. The
// kernel's neighbour table over rtnetlink (no shelling out), vendors from
// the IEEE OUI list, names from a dnsmasq lease file, and reverse DNS off
// the tick thread. Discovery only ever returns data: it never changes a
// priority (the original reset everything to Normal on each scan).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/common/ip_address.h"
#include "agent/common/result.h"

namespace bwalloc {

struct Neighbour {
  IpAddress ip;
  std::string mac;  // "aa:bb:cc:dd:ee:ff"
};

class RtnlSocket;

// Reachable/stale/permanent neighbours on interface `ifindex` (all if 0).
[[nodiscard]] Result<std::vector<Neighbour>> read_neighbours(RtnlSocket& rtnl, int ifindex);

// "XX-XX-XX   (hex)\t\tVendor" lines of oui.txt -> prefix "xx:xx:xx" -> vendor.
std::map<std::string, std::string> parse_oui(const std::string& text);
// dnsmasq leases: "expiry mac ip hostname clientid"; "*" means no name.
std::map<IpAddress, std::string> parse_dnsmasq_leases(const std::string& text);
// Names are untrusted: control characters removed, at most 253 bytes.
std::string sanitize_name(const std::string& name);

// Reverse DNS in worker threads with a per-lookup timeout; answers are
// cached. lookup() never blocks: it returns what is known and queues the rest.
class ReverseDns {
 public:
  explicit ReverseDns(std::chrono::milliseconds timeout = std::chrono::seconds(2), size_t max_queue = 1024);
  ~ReverseDns();
  std::optional<std::string> lookup(const IpAddress& ip);

 private:
  void worker();
  std::chrono::milliseconds timeout_;
  size_t max_queue_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<IpAddress> queue_;
  std::unordered_map<IpAddress, std::string> names_;  // "" = looked up, no name
  std::unordered_map<IpAddress, bool> queued_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

struct DiscoveredDevice {
  IpAddress ip;
  std::string mac;
  std::string hostname;
  std::string vendor;
};

// Construct it inside the router's network namespace: its netlink socket
// and interface index stay there, whichever thread calls scan() later.
class Discovery {
 public:
  [[nodiscard]] static Result<std::unique_ptr<Discovery>> open(const std::string& lan_interface,
                                                               const std::string& oui_file, std::string dnsmasq_leases,
                                                               bool reverse_dns);
  ~Discovery();
  [[nodiscard]] Result<std::vector<DiscoveredDevice>> scan();

 private:
  Discovery() = default;
  std::unique_ptr<RtnlSocket> rtnl_;
  std::mutex rtnl_mutex_;
  int ifindex_ = 0;
  std::string dnsmasq_leases_;
  std::map<std::string, std::string> oui_;
  std::unique_ptr<ReverseDns> rdns_;
};

}  // namespace bwalloc
