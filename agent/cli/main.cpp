// bwalloc: the command-line entry point. Parses arguments, loads the
// config, and runs one of run / demo / status / detach / version.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <thread>

#include "agent/cli/cli_args.h"
#include "agent/cli/commands.h"
#include "agent/common/log.h"
#include "agent/config/config_loader.h"

using namespace bwalloc;

namespace {
Result<Config> load(const CliArgs& args) {
  auto config = load_config_file(args.config_path, args.config_given);
  if (!config) return config.error();
  for (const auto& assignment : args.overrides) {
    if (auto applied = apply_override(*config, assignment); !applied) return applied.error();
  }
  return config;
}
}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> raw(argv + 1, argv + argc);
  auto args = parse_cli(raw);
  if (!args) {
    std::fprintf(stderr, "bwalloc: %s\n", args.message().c_str());
    return 2;
  }
  if (args->command == "help") {
    std::fputs(cli_usage().c_str(), stdout);
    return 0;
  }
  if (args->command == "version") {
    std::printf("bwalloc %s\n", BWALLOC_VERSION);
    return 0;
  }
  if (args->command == "demo") return run_demo(argv[0], args->passthrough);
  auto config = load(*args);
  if (!config) {
    std::fprintf(stderr, "bwalloc: %s\n", config.message().c_str());
    return 2;
  }
  if (args->command == "status") return run_status(*config, *args);
  if (args->command == "detach") return run_detach(*config, *args);
  return run_agent(*config, *args);
}
