// The subcommands of `bwalloc`, each returning the process exit code.
#pragma once

#include <string>
#include <vector>

#include "agent/cli/cli_args.h"
#include "agent/config/config.h"

namespace bwalloc {

int run_agent(const Config& config, const CliArgs& args);
int run_status(const Config& config, const CliArgs& args);
int run_detach(const Config& config, const CliArgs& args);
int run_demo(const char* self, const std::vector<std::string>& options);

}  // namespace bwalloc
