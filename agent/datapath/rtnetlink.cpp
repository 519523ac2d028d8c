// Minimal rtnetlink client; see rtnetlink.h.
#include "agent/datapath/rtnetlink.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bwalloc {

NetlinkMessage::NetlinkMessage(uint16_t type, uint16_t flags) {
  buffer_.resize(NLMSG_HDRLEN);
  header()->nlmsg_type = type;
  header()->nlmsg_flags = flags;
  header()->nlmsg_len = NLMSG_HDRLEN;
}

void NetlinkMessage::append_bytes(const void* data, size_t len) {
  size_t offset = buffer_.size();
  buffer_.resize(offset + NLMSG_ALIGN(len), 0);
  std::memcpy(buffer_.data() + offset, data, len);
  header()->nlmsg_len = static_cast<uint32_t>(buffer_.size());
}

void NetlinkMessage::add_attr(uint16_t type, const void* data, size_t len) {
  rtattr attr{};
  attr.rta_type = type;
  attr.rta_len = static_cast<unsigned short>(RTA_LENGTH(len));
  size_t offset = buffer_.size();
  buffer_.resize(offset + RTA_SPACE(len), 0);
  std::memcpy(buffer_.data() + offset, &attr, sizeof attr);
  if (len) std::memcpy(buffer_.data() + offset + RTA_LENGTH(0), data, len);
  header()->nlmsg_len = static_cast<uint32_t>(buffer_.size());
}

Result<RtnlSocket> RtnlSocket::open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return make_error("open rtnetlink socket", std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int err = errno;
    close(fd);
    return make_error("bind rtnetlink socket", std::strerror(err));
  }
  return RtnlSocket(fd);
}

RtnlSocket::RtnlSocket(RtnlSocket&& other) noexcept : fd_(other.fd_), sequence_(other.sequence_) { other.fd_ = -1; }

RtnlSocket::~RtnlSocket() {
  if (fd_ >= 0) close(fd_);
}

Result<void> RtnlSocket::send(NetlinkMessage& message) {
  message.header()->nlmsg_seq = ++sequence_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  auto& bytes = message.bytes();
  if (sendto(fd_, bytes.data(), bytes.size(), 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
    return make_error("send rtnetlink request", std::strerror(errno));
  }
  return {};
}

Result<void> RtnlSocket::request(NetlinkMessage& message) {
  message.header()->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  if (auto sent = send(message); !sent) return sent;
  std::vector<uint8_t> buffer(32768);
  for (;;) {
    ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("read rtnetlink answer", std::strerror(errno));
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != sequence_) continue;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) return {};
        return Error{std::strerror(-err->error)};
      }
    }
  }
}

Result<void> RtnlSocket::dump(NetlinkMessage& message, const std::function<void(const nlmsghdr&)>& on_message) {
  message.header()->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
  if (auto sent = send(message); !sent) return sent;
  std::vector<uint8_t> buffer(65536);
  for (;;) {
    ssize_t n = recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return make_error("read rtnetlink dump", std::strerror(errno));
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer.data()); NLMSG_OK(h, static_cast<unsigned>(n));
         h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_seq != sequence_) continue;
      if (h->nlmsg_type == NLMSG_DONE) return {};
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* err = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        if (err->error == 0) return {};
        return Error{std::strerror(-err->error)};
      }
      on_message(*h);
    }
  }
}

void for_each_rtattr(const nlmsghdr& message, size_t fixed_len,
                     const std::function<void(uint16_t type, const void* data, size_t len)>& visit) {
  auto* base = reinterpret_cast<const uint8_t*>(NLMSG_DATA(&message)) + NLMSG_ALIGN(fixed_len);
  int remaining = static_cast<int>(message.nlmsg_len) - static_cast<int>(NLMSG_LENGTH(fixed_len));
  for (auto* attr = reinterpret_cast<const rtattr*>(base); remaining > 0 && RTA_OK(attr, remaining);
       attr = RTA_NEXT(attr, remaining)) {
    visit(attr->rta_type, RTA_DATA(attr), RTA_PAYLOAD(attr));
  }
}

}  // namespace bwalloc
