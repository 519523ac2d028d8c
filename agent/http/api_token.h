// The API token: 32 random bytes as hex, written to a 0600 file at first
// start and read back afterwards. Compared in constant time.
#pragma once

#include <string>
#include <string_view>

#include "agent/common/result.h"

namespace bwalloc {

[[nodiscard]] Result<std::string> load_or_create_token(const std::string& path);
bool tokens_equal(std::string_view a, std::string_view b);

}  // namespace bwalloc
