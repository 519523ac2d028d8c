// Command-line parsing for `bwalloc`: the subcommand, the config file, the
// `--set` overrides and a few flags. Pure, so every bad argument gets a
// clear message before anything is touched.
#pragma once

#include <string>
#include <vector>

#include "agent/common/result.h"

namespace bwalloc {

struct CliArgs {
  std::string command;  // run, demo, status, detach, version, help
  std::string config_path;
  bool config_given = false;
  std::vector<std::string> overrides;    // "section.key=value"
  std::string netns;                     // run the datapath inside this network namespace
  bool announce_dashboard = false;       // print the dashboard URL with the token
  std::vector<std::string> passthrough;  // demo options
};

[[nodiscard]] Result<CliArgs> parse_cli(const std::vector<std::string>& argv);
std::string cli_usage();

}  // namespace bwalloc
