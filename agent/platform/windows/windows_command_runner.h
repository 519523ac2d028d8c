// The Windows CommandRunner: the shaper's commands run through
// CreateProcessW (windows_process.h); serialisation, dry run and the
// stop-at-first-failure rule come from CommandRunner.
#pragma once

#include "agent/fallback/command_runner.h"
#include "agent/platform/windows/windows_process.h"

namespace bwalloc {

class WindowsCommandRunner final : public CommandRunner {
 public:
  using CommandRunner::CommandRunner;

 protected:
  Result<void> execute(const std::vector<std::string>& argv) override { return run_windows_process(argv); }
};

}  // namespace bwalloc
