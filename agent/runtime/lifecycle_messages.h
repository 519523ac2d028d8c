// What the agent says once it has restored its state and when it stops.
// Pure, so each wording is pinned for every case and backend: a first start
// must not claim to restore devices the simulator just made up, and a stop
// must not promise that a datapath stays attached when none was.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "agent/common/backend.h"

namespace bwalloc {

// `saved_devices`/`saved_blocks`: read back from the database;
// `new_in_datapath`: devices the datapath counts that the database did not
// know (the simulator's, or new ones the kernel saw while the agent was down).
std::string restored_message(size_t saved_devices, size_t saved_blocks, size_t new_in_datapath,
                             const std::string& store_path);

// `signal_name`: "SIGINT" or "SIGTERM"; `backend`: the one that ran.
std::string stopping_message(std::string_view signal_name, Backend backend);

}  // namespace bwalloc
