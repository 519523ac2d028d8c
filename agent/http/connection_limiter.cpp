// Connection slots; see connection_limiter.h.
#include "agent/http/connection_limiter.h"

#include "agent/http/client_address.h"

namespace bwalloc {

ConnectionLimiter::ConnectionLimiter(size_t total_cap, size_t per_client_cap) : state_(std::make_shared<State>()) {
  state_->total_cap = total_cap;
  state_->per_client_cap = per_client_cap;
}

ConnectionLimiter::Slot::~Slot() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  --state_->total;
  auto it = state_->per_client.find(client_);
  if (it != state_->per_client.end() && --it->second == 0) state_->per_client.erase(it);
}

Result<ConnectionLimiter::Slot> ConnectionLimiter::acquire(const boost::asio::ip::address& peer) {
  const auto client = client_key(peer);
  std::lock_guard lock(state_->mutex);
  auto it = state_->per_client.find(client);
  const size_t mine = it == state_->per_client.end() ? 0 : it->second;
  if (mine >= state_->per_client_cap) {
    return Error{"too many connections from " + client.to_string() + " (limit " +
                 std::to_string(state_->per_client_cap) + " per address); close some and try again"};
  }
  if (state_->total >= state_->total_cap) {
    return Error{"too many connections (limit " + std::to_string(state_->total_cap) + "); try again shortly"};
  }
  ++state_->per_client[client];
  ++state_->total;
  return Slot(state_, client);
}

size_t ConnectionLimiter::open() const {
  std::lock_guard lock(state_->mutex);
  return state_->total;
}

size_t ConnectionLimiter::open_from(const boost::asio::ip::address& peer) const {
  std::lock_guard lock(state_->mutex);
  auto it = state_->per_client.find(client_key(peer));
  return it == state_->per_client.end() ? 0 : it->second;
}

}  // namespace bwalloc
