// The key the HTTP limits count clients by: the peer's address, with an
// IPv4-mapped IPv6 address (a dual-stack listener's view of an IPv4 peer)
// folded to plain IPv4 so one client never counts as two.
#pragma once

#include <boost/asio/ip/address.hpp>

namespace bwalloc {

inline boost::asio::ip::address client_key(const boost::asio::ip::address& peer) {
  if (peer.is_v6() && peer.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, peer.to_v6());
  }
  return peer;
}

}  // namespace bwalloc
