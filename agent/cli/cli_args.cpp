// Argument parsing; see cli_args.h.
#include "agent/cli/cli_args.h"

#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"

namespace bwalloc {

Result<CliArgs> parse_cli(const std::vector<std::string>& argv) {
  CliArgs args;
  args.config_path = kDefaultConfigPath;
  if (argv.empty()) {
    args.command = "help";
    return args;
  }
  args.command = argv[0];
  if (args.command == "--help" || args.command == "-h") args.command = "help";
  if (args.command == "--version") args.command = "version";
  static const std::vector<std::string> commands = {"run", "demo", "status", "detach", "version", "help"};
  if (std::find(commands.begin(), commands.end(), args.command) == commands.end()) {
    return Error{"unknown command '" + args.command +
                 "' (commands: run, demo, status, detach, version; see bwalloc --help)"};
  }
  for (size_t i = 1; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    auto value = [&](const std::string& flag) -> Result<std::string> {
      if (i + 1 >= argv.size()) return Error{flag + " needs a value"};
      return argv[++i];
    };
    if (a == "--config" || a == "-c") {
      auto v = value(a);
      if (!v) return v.error();
      args.config_path = *v;
      args.config_given = true;
    } else if (a == "--set") {
      auto v = value(a);
      if (!v) return v.error();
      args.overrides.push_back(*v);
    } else if (a.rfind("--set=", 0) == 0) {
      args.overrides.push_back(a.substr(6));
    } else if (a == "--netns") {
      auto v = value(a);
      if (!v) return v.error();
      args.netns = *v;
    } else if (a == "--announce-dashboard") {
      args.announce_dashboard = true;
    } else if (a == "--help" || a == "-h") {
      args.command = "help";
    } else if (args.command == "demo") {
      args.passthrough.push_back(a);
    } else {
      return Error{"unknown option '" + a + "' for '" + args.command + "' (see bwalloc --help)"};
    }
  }
  return args;
}

std::string cli_usage() {
  std::string text =
      "bwalloc: per-device bandwidth allocation for a Linux router (eBPF counting, EDT shaping)\n\n"
      "usage: bwalloc COMMAND [--config FILE] [--set section.key=value]... [options]\n\n"
      "commands:\n"
      "  run       run the agent: attach the datapath, classify devices, serve the dashboard and API\n"
      "  demo      build a virtual LAN in network namespaces with traffic and run the agent on it\n"
      "            (options: --devices N, --port P); Ctrl-C removes everything\n"
      "  status    show attached programs, map sizes, whether pacing is active, and whether an agent runs\n"
      "  detach    remove everything bwalloc attached (refused while an agent runs)\n"
      "  version   print the version\n\n"
      "options:\n"
      "  --config FILE        TOML config (default " +
      std::string(kDefaultConfigPath) +
      "; missing = defaults)\n"
      "  --set key=value      override one setting, e.g. --set rates.low='\"2Mbit\"' --set "
      "datapath.lan_interface=br-lan\n"
      "  --netns NAME         open the datapath inside network namespace NAME (the HTTP server stays outside)\n"
      "  --announce-dashboard (run) print the dashboard URL with its token\n\n"
      "settings (section.key = default):\n";
  Config defaults;
  for (const auto& key : config_keys()) {
    text += "  " + key.name + " = " + key.get(defaults) + "\n      " + key.description +
            (key.runtime ? " [runtime]" : "") + "\n";
  }
  return text;
}

}  // namespace bwalloc
