// Where the agent keeps its files on Windows. The configuration's defaults
// are Linux paths (/var/lib/bwalloc, /run/bwalloc, /usr/share/bwalloc/web);
// on Windows those that were left at their default move under
// %ProgramData%\bwalloc and next to bwalloc.exe. Paths an operator set are
// kept as they are. Pure, so it is tested on Linux.
#pragma once

#include <string>

#include "agent/config/config.h"

namespace bwalloc {

// `program_data`: %ProgramData% (e.g. "C:\ProgramData"); `exe_dir`: the
// directory holding bwalloc.exe.
void apply_windows_default_paths(Config& config, const std::string& program_data, const std::string& exe_dir);

}  // namespace bwalloc
