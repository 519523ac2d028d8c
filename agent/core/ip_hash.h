// FastIpHash: the hash of the sampler's per-device maps. std::hash of an
// IpAddress is FNV-1a over 16 bytes, one multiply per byte in a chain; and
// libstdc++ does not cache the hash codes of a std::hash it deems fast, so
// every step along a bucket's chain hashed another key again. Two 64-bit
// words and two multiplies mix as well for map keys.
#pragma once

#include <cstdint>
#include <cstring>

#include "agent/common/ip_address.h"

namespace bwalloc {

struct FastIpHash {
  size_t operator()(const IpAddress& a) const noexcept {
    uint64_t high = 0, low = 0;
    std::memcpy(&high, a.bytes().data(), 8);
    std::memcpy(&low, a.bytes().data() + 8, 8);
    uint64_t h = (high ^ (low * 0x9e3779b97f4a7c15ull)) * 0xc2b2ae3d27d4eb4full;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace bwalloc
