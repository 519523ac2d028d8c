// The composition root: `bwalloc run` on every platform. Builds the object
// graph once (instance lock, settled clock, datapath, store, agent, tick
// thread, HTTP server) from a Platform, serves until the platform's stop,
// then stops the server first and the tick thread last, so the store holds
// every tick that ran.
#pragma once

#include "agent/config/config.h"
#include "agent/runtime/platform.h"

namespace bwalloc {

struct AgentProcessOptions {
  bool announce_dashboard = false;  // print the dashboard URL with the token
};

// Returns the process exit code; what failed is on stderr.
int run_agent_process(Platform& platform, const Config& config, const AgentProcessOptions& options);

}  // namespace bwalloc
