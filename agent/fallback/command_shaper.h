// CommandShaper: the fallback backend's shaping, done by running commands
// (tc on Linux, PowerShell's NetQos cmdlets on Windows). A shaper is a pure
// planner: it remembers what it last installed and turns the policies the
// agent wants into the argv vectors that get there; a CommandRunner runs
// them. Re-planning the same policies yields no commands.
#pragma once

#include <string>
#include <vector>

#include "agent/common/result.h"
#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"

namespace bwalloc {

// One program run with its arguments, never through a shell.
struct Command {
  std::vector<std::string> argv;
  // Clean-up steps whose target may already be gone ("Cannot find device")
  // run on regardless of failure.
  bool may_fail = false;

  bool operator==(const Command&) const = default;
  // argv joined by spaces, for logs and dry runs (not for a shell).
  std::string to_string() const {
    std::string text;
    for (const auto& arg : argv) {
      if (!text.empty()) text += ' ';
      text += arg;
    }
    return text;
  }
};

class CommandShaper {
 public:
  virtual ~CommandShaper() = default;

  // "tc", "netqos": for logs and status.
  virtual std::string name() const = 0;

  // The commands that take the host from what this shaper last committed
  // to exactly `wanted` (every shaped device; devices not listed are
  // unshaped). The first plan also builds the fixed part (root qdiscs,
  // default, unlimited and blocked classes, port filters). Pure: runs nothing, changes nothing. An
  // error names the bad value (hostile or out-of-range input, too many
  // devices) and nothing may be run.
  [[nodiscard]] virtual Result<std::vector<Command>> plan(const std::vector<DevicePolicy>& wanted) const = 0;

  // Records that every command of plan(wanted) ran.
  virtual void commit(const std::vector<DevicePolicy>& wanted) = 0;

  // After a failed run, what is installed is unknown: the next plan starts
  // with teardown() and rebuilds everything.
  virtual void invalidate() = 0;

  // Removes everything this shaper installs, also what a crashed earlier
  // run left behind (every command may_fail). Forgets what was committed.
  virtual std::vector<Command> teardown() = 0;

  // The priority or unlimited ports changed at run time. A shaper that
  // classifies by port changes its port filters on its next plan (the
  // devices keep their classes); one that cannot (NetQos) ignores them.
  [[nodiscard]] virtual Result<void> update_ports(const std::vector<ProtocolPort>& /*priority*/,
                                                  const std::vector<ProtocolPort>& /*unlimited*/) {
    return {};
  }
};

}  // namespace bwalloc
