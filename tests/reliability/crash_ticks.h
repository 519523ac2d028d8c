// The crash test's tick numbering, shared by the writer and the checker:
// tick n is written at ts_of(n) with one sample per device whose byte
// counts encode n, so the checker can tell a whole tick from a torn one.
#pragma once

#include <cstdint>
#include <string>

#include "agent/store/sqlite_store.h"

namespace bwalloc::crash_ticks {

inline constexpr int64_t kStartMs = 1'800'000'000'000;  // a fixed day in 2027
inline constexpr int64_t kStepMs = 1000;
// Raw rows are kept for a year so the checker sees every tick ever written;
// rollups still run (and get killed) every 50 ticks.
inline constexpr Retention kRetention{365 * 86'400'000ll, 365 * 86'400'000ll, 365 * 86'400'000ll, 730 * 86'400'000ll};

inline int64_t ts_of(int64_t n) { return kStartMs + n * kStepMs; }
inline int64_t tick_of(int64_t ts) { return ts == 0 ? 0 : (ts - kStartMs) / kStepMs; }

inline TickRecord record(int64_t n, int devices) {
  TickRecord r;
  r.ts_ms = ts_of(n);
  for (int d = 0; d < devices; ++d) {
    auto ip = IpAddress::parse("10.20." + std::to_string(d / 250) + "." + std::to_string(d % 250 + 1)).value();
    r.samples.push_back(UsageSample{ip, static_cast<uint64_t>(n), static_cast<uint64_t>(n + d)});
  }
  return r;
}

}  // namespace bwalloc::crash_ticks
