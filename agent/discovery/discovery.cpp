// Neighbour dump, parsers and the reverse DNS worker; see discovery.h.
#include "agent/discovery/discovery.h"

#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netdb.h>
#include <sys/socket.h>

#include <cctype>
#include <cstring>
#include <fstream>
#include <future>
#include <sstream>

#include "agent/common/log.h"
#include "agent/datapath/rtnetlink.h"

namespace bwalloc {

Result<std::vector<Neighbour>> read_neighbours(RtnlSocket& rtnl, int ifindex) {
  NetlinkMessage request(RTM_GETNEIGH, 0);
  ndmsg nd{};
  nd.ndm_family = AF_UNSPEC;
  request.append_fixed(nd);
  std::vector<Neighbour> out;
  auto dumped = rtnl.dump(request, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWNEIGH) return;
    auto* msg = static_cast<const ndmsg*>(NLMSG_DATA(&h));
    if (ifindex && msg->ndm_ifindex != ifindex) return;
    if (msg->ndm_state & (NUD_FAILED | NUD_INCOMPLETE | NUD_NOARP)) return;
    Neighbour n;
    bool has_ip = false;
    for_each_rtattr(h, sizeof(ndmsg), [&](uint16_t type, const void* data, size_t len) {
      if (type == NDA_DST && (len == 4 || len == 16)) {
        char text[INET6_ADDRSTRLEN] = {};
        inet_ntop(len == 4 ? AF_INET : AF_INET6, data, text, sizeof text);
        auto ip = IpAddress::parse(text);
        if (ip) {
          n.ip = *ip;
          has_ip = true;
        }
      } else if (type == NDA_LLADDR && len == 6) {
        auto* b = static_cast<const uint8_t*>(data);
        char mac[18];
        std::snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
        n.mac = mac;
      }
    });
    // Link-local IPv6 neighbours are the same devices under another name.
    if (has_ip && !(n.ip.bytes()[0] == 0xfe && (n.ip.bytes()[1] & 0xc0) == 0x80)) out.push_back(n);
  });
  if (!dumped) return make_error("read the neighbour table", dumped.message());
  return out;
}

std::map<std::string, std::string> parse_oui(const std::string& text) {
  std::map<std::string, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    auto hex = line.find("(hex)");
    if (hex == std::string::npos || hex < 8) continue;
    std::string prefix = line.substr(0, 8);
    if (prefix[2] != '-' || prefix[5] != '-') continue;
    std::string key;
    for (char c : prefix) key += c == '-' ? ':' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string vendor = line.substr(hex + 5);
    size_t start = vendor.find_first_not_of(" \t");
    size_t end = vendor.find_last_not_of(" \t\r");
    if (start == std::string::npos) continue;
    out[key] = sanitize_name(vendor.substr(start, end - start + 1));
  }
  return out;
}

std::map<IpAddress, std::string> parse_dnsmasq_leases(const std::string& text) {
  std::map<IpAddress, std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string expiry, mac, ip, name;
    if (!(fields >> expiry >> mac >> ip >> name)) continue;
    auto parsed = IpAddress::parse(ip);
    if (!parsed || name == "*") continue;
    out[*parsed] = sanitize_name(name);
  }
  return out;
}

std::string sanitize_name(const std::string& name) {
  std::string out;
  for (unsigned char c : name) {
    if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
    if (out.size() >= 253) break;
  }
  return out;
}

ReverseDns::ReverseDns(std::chrono::milliseconds timeout, size_t max_queue)
    : timeout_(timeout), max_queue_(max_queue), thread_([this] { worker(); }) {}

ReverseDns::~ReverseDns() {
  stop_ = true;
  wake_.notify_all();
  thread_.join();
}

std::optional<std::string> ReverseDns::lookup(const IpAddress& ip) {
  std::lock_guard lock(mutex_);
  if (auto it = names_.find(ip); it != names_.end()) return it->second;
  if (!queued_[ip] && queue_.size() < max_queue_) {
    queued_[ip] = true;
    queue_.push_back(ip);
    wake_.notify_one();
  }
  return std::nullopt;
}

void ReverseDns::worker() {
  while (!stop_) {
    IpAddress ip;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      ip = queue_.front();
      queue_.pop_front();
    }
    // getnameinfo has no timeout of its own: run it on a detached task and
    // give up waiting after the timeout (the task finishes on its own).
    auto task = std::make_shared<std::packaged_task<std::string()>>([ip] {
      sockaddr_storage ss{};
      socklen_t len;
      if (ip.is_v4()) {
        auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
        sin->sin_family = AF_INET;
        std::memcpy(&sin->sin_addr, ip.bytes().data() + 12, 4);
        len = sizeof(sockaddr_in);
      } else {
        auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
        sin6->sin6_family = AF_INET6;
        std::memcpy(&sin6->sin6_addr, ip.bytes().data(), 16);
        len = sizeof(sockaddr_in6);
      }
      char host[NI_MAXHOST] = {};
      if (getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, host, sizeof host, nullptr, 0, NI_NAMEREQD) != 0)
        return std::string();
      return std::string(host);
    });
    auto answer = task->get_future();
    std::thread([task] { (*task)(); }).detach();
    std::string name;
    if (answer.wait_for(timeout_) == std::future_status::ready) name = sanitize_name(answer.get());
    std::lock_guard lock(mutex_);
    names_[ip] = name;
    queued_.erase(ip);
  }
}

Result<std::unique_ptr<Discovery>> Discovery::open(const std::string& lan_interface, const std::string& oui_file,
                                                   std::string dnsmasq_leases, bool reverse_dns) {
  std::unique_ptr<Discovery> d(new Discovery());
  d->ifindex_ = static_cast<int>(if_nametoindex(lan_interface.c_str()));
  if (d->ifindex_ == 0) return Error{"discovery: interface " + lan_interface + " does not exist"};
  auto rtnl = RtnlSocket::open();
  if (!rtnl) return rtnl.error();
  d->rtnl_ = std::make_unique<RtnlSocket>(std::move(*rtnl));
  d->dnsmasq_leases_ = std::move(dnsmasq_leases);
  std::ifstream in(oui_file);
  if (in) {
    std::stringstream text;
    text << in.rdbuf();
    d->oui_ = parse_oui(text.str());
  } else {
    log_info("discovery", "no OUI list at " + oui_file + " (install ieee-data): vendors stay empty");
  }
  if (reverse_dns) d->rdns_ = std::make_unique<ReverseDns>();
  return d;
}

Discovery::~Discovery() = default;

Result<std::vector<DiscoveredDevice>> Discovery::scan() {
  std::unique_lock lock(rtnl_mutex_);
  auto neighbours = read_neighbours(*rtnl_, ifindex_);
  lock.unlock();
  if (!neighbours) return neighbours.error();
  std::map<IpAddress, std::string> leases;
  if (!dnsmasq_leases_.empty()) {
    std::ifstream in(dnsmasq_leases_);
    std::stringstream text;
    text << in.rdbuf();
    leases = parse_dnsmasq_leases(text.str());
  }
  std::vector<DiscoveredDevice> out;
  for (const auto& n : *neighbours) {
    DiscoveredDevice d{n.ip, n.mac, "", ""};
    if (n.mac.size() >= 8) {
      if (auto it = oui_.find(n.mac.substr(0, 8)); it != oui_.end()) d.vendor = it->second;
    }
    if (auto it = leases.find(n.ip); it != leases.end()) d.hostname = it->second;
    if (d.hostname.empty() && rdns_) d.hostname = rdns_->lookup(n.ip).value_or("");
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace bwalloc
