// Runs a function on every thread of this process. Linux keeps credentials
// (capabilities, no_new_privs) per thread, and the agent already runs the
// tick, HTTP, prober and DNS threads when it drops privileges, so a change
// made on one thread only would leave the others privileged.
#pragma once

#include <cstddef>

#include "agent/common/result.h"

namespace bwalloc {

// Called on each thread, in a signal handler for threads other than the
// caller: it must be async-signal-safe (raw syscalls only). Returns 0 or an
// errno value.
using ThreadFunction = int (*)(const void* argument);

// Runs `function` on the calling thread, then on every other thread, one at
// a time; threads started meanwhile are found by listing /proc/self/task
// again until a pass finds no thread left to do. Returns how many threads
// ran it. Fails when a thread reports an error or does not answer in time
// (it blocks the signal).
[[nodiscard]] Result<size_t> run_on_all_threads(ThreadFunction function, const void* argument);

}  // namespace bwalloc
