// Runs one program on Windows from an argv, without cmd.exe: CreateProcessW
// with the arguments quoted per the MS C runtime rules, a bare program name
// looked up only in the system directories, no console window, only the
// child's own stdout (discarded) and stderr (captured for the error
// message) inherited.
#pragma once

#include <string>
#include <vector>

#include "agent/common/result.h"

namespace bwalloc {

// Waits at most `timeout_ms`; an error when it cannot start, times out
// (the process is then killed) or exits non-zero, with its stderr trimmed.
[[nodiscard]] Result<void> run_windows_process(const std::vector<std::string>& argv, unsigned timeout_ms = 60'000);

}  // namespace bwalloc
