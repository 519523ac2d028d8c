// The bpffs pin directory: maps and links pinned there outlive the agent, so
// shaping goes on while it restarts and a new agent adopts them. A pin is
// only adopted when its layout matches what this build expects.
#pragma once

#include <cstdint>
#include <string>

#include "agent/common/result.h"
#include "agent/datapath/map_layout.h"

namespace bwalloc {

// Mounts bpffs on /sys/fs/bpf when nothing is mounted there, creates `dir`
// with mode 0700, and refuses a directory owned by another user (someone
// else could have planted maps in it).
[[nodiscard]] Result<void> prepare_pin_dir(const std::string& dir);

// Layout of a pinned map, or an error when it is not a map.
[[nodiscard]] Result<MapLayout> pinned_map_layout(int map_fd);

bool path_exists(const std::string& path);

// Where the pin called `name` ("bwa_policy", "link_xdp_lan") lives: every
// pin path is built here.
std::string pin_path(const std::string& pin_dir, const std::string& name);

// The refusal prepare_pin_dir gives for a directory another user owns, or
// an empty string. "auto" backend selection must refuse on it too rather than
// fall back: it is a warning sign, not a missing kernel feature.
std::string foreign_pin_dir_refusal(const std::string& dir);

}  // namespace bwalloc
