// Priority classes of the original system; the numbers are its API values
// and the BPF contract's BWA_PRIO_*.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace bwalloc {

enum class Priority : uint8_t { Blocked = 0, High = 1, Normal = 2, Low = 3 };

constexpr std::string_view priority_name(Priority p) {
  switch (p) {
    case Priority::Blocked:
      return "Blocked";
    case Priority::High:
      return "High";
    case Priority::Normal:
      return "Normal";
    case Priority::Low:
      return "Low";
  }
  return "Unknown";
}

// Accepts the names (any case as written above) and the numbers 0-3.
std::optional<Priority> parse_priority(std::string_view text);

// Worse means a lower service class: High < Normal < Low < Blocked.
constexpr int service_rank(Priority p) {
  switch (p) {
    case Priority::High:
      return 0;
    case Priority::Normal:
      return 1;
    case Priority::Low:
      return 2;
    case Priority::Blocked:
      return 3;
  }
  return 3;
}

constexpr bool is_demotion(Priority from, Priority to) { return service_rank(to) > service_rank(from); }

}  // namespace bwalloc
