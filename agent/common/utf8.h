// UTF-8 for text that leaves the agent as JSON: Boost.JSON writes string
// bytes as they are, so text that is not valid UTF-8 (a reason cut
// mid-character, a Latin-1 hostname from a lease file) would make the whole
// body undecodable for every client. Pure.
#pragma once

#include <string>
#include <string_view>

namespace bwalloc {

// Well-formed UTF-8: no truncated, overlong or surrogate sequences, nothing
// past U+10FFFF.
bool is_valid_utf8(std::string_view text);

// `text` with every byte that is not part of a well-formed sequence
// replaced by U+FFFD.
std::string repair_utf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` bytes that ends
// between two characters (`text` is taken to be valid UTF-8).
std::string truncate_utf8(std::string_view text, size_t max_bytes);

}  // namespace bwalloc
