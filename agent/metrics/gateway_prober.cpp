// ICMP echo prober; see gateway_prober.h.
#include "agent/metrics/gateway_prober.h"

#ifndef _WIN32  // Windows: agent/platform/windows/gateway_probe_windows.cpp
#include <arpa/inet.h>
#include <linux/rtnetlink.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>

#include "agent/common/log.h"
#include "agent/datapath/rtnetlink.h"
#endif

namespace bwalloc {

#ifndef _WIN32
namespace {
uint16_t icmp_checksum(const uint8_t* data, size_t len) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < len; i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (len & 1) sum += static_cast<uint32_t>(data[len - 1] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return htons(static_cast<uint16_t>(~sum));
}
}  // namespace

Result<std::optional<IpAddress>> default_gateway_v4() {
  auto rtnl = RtnlSocket::open();
  if (!rtnl) return rtnl.error();
  NetlinkMessage request(RTM_GETROUTE, 0);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  request.append_fixed(rt);
  std::optional<IpAddress> gateway;
  auto dumped = rtnl->dump(request, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWROUTE || gateway) return;
    auto* route = static_cast<const rtmsg*>(NLMSG_DATA(&h));
    if (route->rtm_dst_len != 0 || route->rtm_table != RT_TABLE_MAIN) return;
    for_each_rtattr(h, sizeof(rtmsg), [&](uint16_t type, const void* data, size_t len) {
      if (type == RTA_GATEWAY && len == 4) {
        uint32_t addr;
        std::memcpy(&addr, data, 4);
        gateway = IpAddress::from_v4(ntohl(addr));
      }
    });
  });
  if (!dumped) return make_error("read the routing table", dumped.message());
  return gateway;
}

#endif  // !_WIN32

GatewayHealth summarize_probes(const std::deque<std::optional<double>>& outcomes) {
  GatewayHealth health;
  if (outcomes.empty()) return health;
  double sum = 0;
  int answered = 0;
  for (const auto& o : outcomes) {
    if (o) {
      sum += *o;
      ++answered;
    }
  }
  health.loss_percent = 100.0 * static_cast<double>(outcomes.size() - static_cast<size_t>(answered)) /
                        static_cast<double>(outcomes.size());
  if (answered) health.delay_ms = sum / answered;
  return health;
}

GatewayProber::GatewayProber(std::string gateway, std::chrono::milliseconds interval, size_t window)
    : configured_(std::move(gateway)), interval_(interval), window_(window) {}

GatewayProber::~GatewayProber() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void GatewayProber::start() {
  thread_ = std::thread([this] { loop(); });
}

GatewayHealth GatewayProber::health() const {
  std::lock_guard lock(mutex_);
  GatewayHealth h = summarize_probes(outcomes_);
  h.gateway = gateway_;
  return h;
}

void GatewayProber::loop() {
  uint16_t sequence = 0;
  while (!stop_) {
    std::optional<IpAddress> target;
    if (!configured_.empty()) {
      auto parsed = IpAddress::parse(configured_);
      if (parsed) target = *parsed;
    } else if (auto gw = default_gateway_v4(); gw) {
      target = *gw;
    }
    if (target && target->is_v4()) {
      auto rtt = probe_once(*target, ++sequence);
      std::lock_guard lock(mutex_);
      gateway_ = target->to_string();
      outcomes_.push_back(rtt);
      while (outcomes_.size() > window_) outcomes_.pop_front();
    } else {
      std::lock_guard lock(mutex_);
      gateway_.reset();
      outcomes_.clear();
    }
    for (auto slept = std::chrono::milliseconds(0); slept < interval_ && !stop_;
         slept += std::chrono::milliseconds(50)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

#ifndef _WIN32
std::optional<double> GatewayProber::probe_once(const IpAddress& target, uint16_t sequence) {
  // An unprivileged ping socket when the system allows it; otherwise a raw
  // socket (root's CAP_NET_RAW). Either way the kernel routes the echo.
  bool raw = false;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_ICMP);
  if (fd < 0) {
    fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
    raw = true;
  }
  if (fd < 0) return std::nullopt;
  sockaddr_in to{};
  to.sin_family = AF_INET;
  std::memcpy(&to.sin_addr, target.bytes().data() + 12, 4);
  const uint16_t id = static_cast<uint16_t>(getpid() & 0xffff);
  uint8_t packet[16] = {};
  packet[0] = ICMP_ECHO;
  packet[4] = static_cast<uint8_t>(id >> 8);
  packet[5] = static_cast<uint8_t>(id);
  packet[6] = static_cast<uint8_t>(sequence >> 8);
  packet[7] = static_cast<uint8_t>(sequence);
  uint16_t checksum = icmp_checksum(packet, sizeof packet);
  std::memcpy(packet + 2, &checksum, 2);
  auto sent_at = std::chrono::steady_clock::now();
  if (sendto(fd, packet, sizeof packet, 0, reinterpret_cast<sockaddr*>(&to), sizeof to) < 0) {
    close(fd);
    return std::nullopt;
  }
  std::optional<double> rtt;
  const auto deadline = sent_at + std::chrono::seconds(1);
  while (!rtt) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    uint8_t reply[1500];
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n <= 0) break;
    const uint8_t* icmp = reply;
    if (raw) {  // raw sockets hand us the IP header too
      size_t ihl = static_cast<size_t>(reply[0] & 0x0f) * 4;
      if (static_cast<size_t>(n) < ihl + 8) continue;
      icmp = reply + ihl;
      uint16_t reply_id = static_cast<uint16_t>(icmp[4] << 8 | icmp[5]);
      if (reply_id != id) continue;
    }
    uint16_t reply_seq = static_cast<uint16_t>(icmp[6] << 8 | icmp[7]);
    if (icmp[0] == ICMP_ECHOREPLY && reply_seq == sequence) {
      rtt = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent_at).count();
    }
  }
  close(fd);
  return rtt;
}

#endif  // !_WIN32

}  // namespace bwalloc
