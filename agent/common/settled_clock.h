// SettledClock: the wall clock the agent stamps history with. A router
// without a battery-backed clock boots in 1970 (or at its firmware's build
// date) until NTP steps it; stamping a tick "1970" would put it where no
// rollup ever looks and retention throws it away. Below kMinValidWallMs the
// wall clock counts as not set, and this clock carries on from the last
// valid reading by monotonic time instead. Valid readings pass through as
// they are, steps included (the store repairs history written while the
// clock ran ahead: SqliteStore::maintain).
#pragma once

#include <mutex>
#include <optional>

#include "agent/api/clock.h"

namespace bwalloc {

// 2020-01-01T00:00:00Z: no clock that is set reads earlier than this.
inline constexpr int64_t kMinValidWallMs = 1'577'836'800'000;

class SettledClock final : public Clock {
 public:
  explicit SettledClock(const Clock& raw) : raw_(raw) {}

  std::chrono::system_clock::time_point wall_now() const override {
    using namespace std::chrono;
    const auto wall = raw_.wall_now();
    const auto mono = raw_.mono_now();
    std::lock_guard lock(mutex_);
    if (duration_cast<milliseconds>(wall.time_since_epoch()).count() >= kMinValidWallMs) {
      last_valid_ = Reading{wall, mono};
      return wall;
    }
    if (!last_valid_) return wall;  // never set since start: nothing better to offer
    return last_valid_->wall + duration_cast<system_clock::duration>(mono - last_valid_->mono);
  }
  std::chrono::steady_clock::time_point mono_now() const override { return raw_.mono_now(); }

 private:
  struct Reading {
    std::chrono::system_clock::time_point wall;
    std::chrono::steady_clock::time_point mono;
  };
  const Clock& raw_;
  mutable std::mutex mutex_;
  mutable std::optional<Reading> last_valid_;
};

}  // namespace bwalloc
