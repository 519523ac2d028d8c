// The sampler's per-device counter baselines, saved to the state directory
// (tmpfs, like the pins) after every tick, so an agent restarted by a crash
// or kill -9 resumes counting where its predecessor's last tick stopped and
// the history has no hole at the restart. Written to a temporary file and
// renamed, so a kill at any point leaves either the old or the new file.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/common/result.h"
#include "agent/core/sampler.h"

namespace bwalloc {

struct SavedBaselines {
  std::vector<CounterBaseline> devices;
  std::chrono::steady_clock::time_point read_at;  // CLOCK_MONOTONIC: valid across processes of one boot
};

[[nodiscard]] Result<void> save_baselines(const std::string& path, const SavedBaselines& saved);
// nullopt when there is no file (first start since boot); an error when it
// is unreadable or not ours (the caller then starts without a baseline).
[[nodiscard]] Result<std::optional<SavedBaselines>> load_baselines(const std::string& path);

}  // namespace bwalloc
