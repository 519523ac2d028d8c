// NetQosShaper: the Windows CommandShaper. It plans the PowerShell NetQos
// commands (netqos_command_builder.h) that take Windows from the policies
// it last committed to the ones the agent wants, batched into as few
// PowerShell runs as fit a command line, and remembers what it committed so
// re-planning the same policies yields no commands. Limits of
// NetQos itself (no drop, host traffic only) are described in the builder.
#pragma once

#include "agent/fallback/command_shaper.h"
#include "agent/fallback/netqos_command_builder.h"

namespace bwalloc {

class NetQosShaper final : public CommandShaper {
 public:
  std::string name() const override { return "netqos"; }
  [[nodiscard]] Result<std::vector<Command>> plan(const std::vector<DevicePolicy>& wanted) const override;
  void commit(const std::vector<DevicePolicy>& wanted) override;
  void invalidate() override { known_ = false; }
  std::vector<Command> teardown() override;

 private:
  NetQosState committed_;
  // False until the first commit and after a failed run: the next plan
  // then clears every bwalloc policy (a crash may have left some, and
  // New-NetQosPolicy refuses a name that exists) before adding.
  bool known_ = false;
};

// Removes every NetQos policy whose name starts with "bwalloc-" from the
// active store: one fixed command, no value in it comes from outside.
Command netqos_remove_all_command();

}  // namespace bwalloc
