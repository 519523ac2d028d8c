// Open streams and eviction; see stream_registry.h.
#include "agent/http/stream_registry.h"

#include <algorithm>

#include "agent/http/client_address.h"

namespace bwalloc {

StreamRegistry::StreamRegistry(size_t total_cap, size_t per_client_cap) : state_(std::make_shared<State>()) {
  state_->total_cap = std::max<size_t>(total_cap, 1);
  state_->per_client_cap = std::max<size_t>(per_client_cap, 1);
}

StreamRegistry::Membership::~Membership() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  state_->streams.erase(id_);  // no-op when it was evicted
}

StreamRegistry::Membership StreamRegistry::admit(const boost::asio::ip::address& peer, std::function<void()> evict) {
  const auto client = client_key(peer);
  std::function<void()> victim;
  uint64_t id = 0;
  {
    std::lock_guard lock(state_->mutex);
    auto& streams = state_->streams;
    std::map<boost::asio::ip::address, size_t> held;
    for (const auto& [sid, e] : streams) ++held[e.client];
    auto oldest_of = [&](const boost::asio::ip::address& who) {
      return std::find_if(streams.begin(), streams.end(), [&](const auto& s) { return s.second.client == who; });
    };
    auto out = streams.end();
    if (held[client] >= state_->per_client_cap) {
      out = oldest_of(client);
    } else if (streams.size() >= state_->total_cap) {
      // The address holding the most; among equals, the one whose oldest
      // stream is oldest (the map is in age order, so the first found).
      size_t most = 0;
      for (const auto& [sid, e] : streams) most = std::max(most, held[e.client]);
      out = std::find_if(streams.begin(), streams.end(), [&](const auto& s) { return held[s.second.client] == most; });
    }
    if (out != streams.end()) {
      victim = std::move(out->second.evict);
      streams.erase(out);
    }
    id = state_->next_id++;
    streams.emplace(id, Entry{client, std::move(evict)});
  }
  if (victim) victim();
  return Membership(state_, id);
}

size_t StreamRegistry::open() const {
  std::lock_guard lock(state_->mutex);
  return state_->streams.size();
}

}  // namespace bwalloc
