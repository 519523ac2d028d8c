// The open Server-Sent-Event streams, and which one gives way when a new
// dashboard connects and a cap is reached. Refusing the newcomer (as the
// server once did) let 64 held streams lock every new dashboard out for as
// long as they were held; the one who just opened the page is the one
// watching, so the newcomer always gets its stream and an old one ends:
// - a client at its own cap loses its own oldest stream (a reloaded tab
//   replaces the tab it left behind);
// - at the server's cap, the oldest stream of the address holding the most
//   goes (one greedy address pays before a dashboard holding one stream).
// Thread-safe; evictions are called outside the lock.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

namespace bwalloc {

class StreamRegistry {
  struct Entry {
    boost::asio::ip::address client;
    std::function<void()> evict;
  };
  struct State {
    std::mutex mutex;
    size_t total_cap;
    size_t per_client_cap;
    uint64_t next_id = 0;
    std::map<uint64_t, Entry> streams;  // by id: the oldest first
  };

 public:
  // Both caps are at least 1 (a 0 is taken as 1: a stream always fits).
  StreamRegistry(size_t total_cap, size_t per_client_cap);

  // A stream's place in the registry; it leaves when this is destroyed.
  class Membership {
   public:
    Membership(Membership&&) noexcept = default;
    Membership& operator=(Membership&&) = delete;
    ~Membership();

   private:
    friend class StreamRegistry;
    Membership(std::shared_ptr<State> state, uint64_t id) : state_(std::move(state)), id_(id) {}
    std::shared_ptr<State> state_;
    uint64_t id_;
  };

  // Registers a stream from `client`, first evicting the stream that must
  // give way (see above). `evict` is called at most once, from whichever
  // thread admits the stream that displaces this one; it must only ask the
  // stream to end (the evicted stream has left the registry already).
  [[nodiscard]] Membership admit(const boost::asio::ip::address& client, std::function<void()> evict);

  size_t open() const;

 private:
  std::shared_ptr<State> state_;
};

}  // namespace bwalloc
