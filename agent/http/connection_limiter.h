// Connection slots: a cap on the server's open connections and a lower cap
// per client address, so one address holding or re-opening connections
// (slowloris, a runaway script) fills only its own share and every other
// client is still served. Thread-safe; a Slot gives its place back when it
// is destroyed, whichever thread that happens on.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

#include "agent/common/result.h"

namespace bwalloc {

class ConnectionLimiter {
  struct State {
    std::mutex mutex;
    size_t total_cap;
    size_t per_client_cap;
    size_t total = 0;
    std::map<boost::asio::ip::address, size_t> per_client;
  };

 public:
  ConnectionLimiter(size_t total_cap, size_t per_client_cap);

  class Slot {
   public:
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept {
      std::swap(state_, other.state_);  // ours is given back by other's destructor
      std::swap(client_, other.client_);
      return *this;
    }
    ~Slot();

   private:
    friend class ConnectionLimiter;
    Slot(std::shared_ptr<State> state, boost::asio::ip::address client) : state_(std::move(state)), client_(client) {}
    std::shared_ptr<State> state_;  // null once moved from
    boost::asio::ip::address client_;
  };

  // A slot for one connection from `client`, or why there is none (for the
  // 503 body: which cap, and whose).
  [[nodiscard]] Result<Slot> acquire(const boost::asio::ip::address& client);

  size_t open() const;
  size_t open_from(const boost::asio::ip::address& client) const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bwalloc
