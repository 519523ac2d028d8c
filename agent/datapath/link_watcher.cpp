// rtnetlink link notifications; see link_watcher.h.
#include "agent/datapath/link_watcher.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bwalloc {

Result<LinkWatcher> LinkWatcher::open() {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);
  if (fd < 0) return make_error("open rtnetlink socket for link notifications", std::strerror(errno));
  sockaddr_nl local{};
  local.nl_family = AF_NETLINK;
  local.nl_groups = RTMGRP_LINK;
  if (bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
    int err = errno;
    close(fd);
    return make_error("subscribe to link notifications", std::strerror(err));
  }
  return LinkWatcher(fd);
}

LinkWatcher::LinkWatcher(LinkWatcher&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

LinkWatcher::~LinkWatcher() {
  if (fd_ >= 0) close(fd_);
}

bool LinkWatcher::changed() {
  bool any = false;
  alignas(nlmsghdr) char buffer[16384];
  for (;;) {
    ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // notifications were dropped: assume anything changed
        any = true;
        continue;
      }
      return any;  // EAGAIN: drained
    }
    for (auto* h = reinterpret_cast<nlmsghdr*>(buffer); NLMSG_OK(h, static_cast<unsigned>(n)); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK) any = true;
    }
  }
}

}  // namespace bwalloc
