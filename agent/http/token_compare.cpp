// The token comparison, shared by the Linux and Windows token stores: it
// takes the same time wherever the strings differ, so a client cannot find
// the token byte by byte from response times.
#include "agent/http/api_token.h"

namespace bwalloc {

bool tokens_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace bwalloc
