// RtnlSocket: a NETLINK_ROUTE socket for the few rtnetlink requests the
// datapath makes (qdiscs, filter dumps), without shelling out to `tc`.
#pragma once

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "agent/common/result.h"

namespace bwalloc {

// A request under construction: header, fixed part, then attributes.
class NetlinkMessage {
 public:
  NetlinkMessage(uint16_t type, uint16_t flags);
  template <class T>
  void append_fixed(const T& fixed) {
    append_bytes(&fixed, sizeof fixed);
  }
  void add_attr(uint16_t type, const void* data, size_t len);
  void add_string_attr(uint16_t type, const std::string& value) { add_attr(type, value.c_str(), value.size() + 1); }
  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buffer_.data()); }
  std::vector<uint8_t>& bytes() { return buffer_; }

 private:
  void append_bytes(const void* data, size_t len);
  std::vector<uint8_t> buffer_;
};

class RtnlSocket {
 public:
  [[nodiscard]] static Result<RtnlSocket> open();
  RtnlSocket(RtnlSocket&& other) noexcept;
  RtnlSocket& operator=(RtnlSocket&&) = delete;
  ~RtnlSocket();

  // Sends a request with NLM_F_ACK and waits for the kernel's answer; the
  // error carries the kernel's errno text.
  [[nodiscard]] Result<void> request(NetlinkMessage& message);
  // Sends a dump request and calls on_message for every answer until DONE.
  [[nodiscard]] Result<void> dump(NetlinkMessage& message, const std::function<void(const nlmsghdr&)>& on_message);

 private:
  explicit RtnlSocket(int fd) : fd_(fd) {}
  [[nodiscard]] Result<void> send(NetlinkMessage& message);
  int fd_ = -1;
  uint32_t sequence_ = 1;
};

// Walks the rtattr list following a fixed header of `fixed_len` bytes.
void for_each_rtattr(const nlmsghdr& message, size_t fixed_len,
                     const std::function<void(uint16_t type, const void* data, size_t len)>& visit);

}  // namespace bwalloc
