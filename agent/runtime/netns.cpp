// setns(2)-based namespace switch; see netns.h for why.
#include "agent/runtime/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bwalloc {

Result<NetnsSwitch> NetnsSwitch::enter(const std::string& name) {
  if (name.empty()) return NetnsSwitch(-1);
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return Error{"network namespace name '" + name + "' must not contain '/'"};
  }
  int original = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (original < 0) return make_error("open current network namespace", std::strerror(errno));
  const std::string path = "/run/netns/" + name;
  int target = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (target < 0) {
    int err = errno;
    close(original);
    return make_error("open network namespace " + path, std::strerror(err));
  }
  int rc = setns(target, CLONE_NEWNET);
  int err = errno;
  close(target);
  if (rc != 0) {
    close(original);
    return make_error("enter network namespace " + name, std::strerror(err));
  }
  return NetnsSwitch(original);
}

NetnsSwitch::NetnsSwitch(NetnsSwitch&& other) noexcept : original_fd_(other.original_fd_) { other.original_fd_ = -1; }

NetnsSwitch::~NetnsSwitch() {
  if (original_fd_ < 0) return;
  // Returning can only fail if the original namespace vanished, which cannot
  // happen while we hold its fd; nothing useful to do on failure here.
  (void)setns(original_fd_, CLONE_NEWNET);
  close(original_fd_);
}

}  // namespace bwalloc
