// Entering a named network namespace (/run/netns/NAME, as `ip netns` makes
// them) for the current thread, and back. The agent opens its datapath,
// netlink sockets and tick thread inside the router's namespace and its HTTP
// server outside it, so a demo router in a namespace is still watched from
// the host's 127.0.0.1.
#pragma once

#include <string>

#include "agent/common/result.h"

namespace bwalloc {

class NetnsSwitch {
 public:
  // Enters `name` for the calling thread; the destructor returns to the
  // namespace the thread was in. An empty name does nothing.
  [[nodiscard]] static Result<NetnsSwitch> enter(const std::string& name);
  NetnsSwitch(NetnsSwitch&& other) noexcept;
  NetnsSwitch& operator=(NetnsSwitch&&) = delete;
  ~NetnsSwitch();

 private:
  explicit NetnsSwitch(int original_fd) : original_fd_(original_fd) {}
  int original_fd_ = -1;
};

}  // namespace bwalloc
