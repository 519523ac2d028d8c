// The platform-independent half of CommandRunner: serialisation, dry run,
// logging and the stop-at-first-failure rule; see command_runner.h.
#include "agent/fallback/command_runner.h"

#include "agent/common/log.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "shaper";
}

Result<void> CommandRunner::run(const Command& command) {
  std::lock_guard lock(mutex_);
  if (command.argv.empty()) return Error{"refusing to run an empty command"};
  if (dry_run_) {
    log_info(kLog, "dry run: " + command.to_string());
    return {};
  }
  log_debug(kLog, "run: " + command.to_string());
  auto ran = execute(command.argv);
  if (!ran) return make_error(command.to_string(), ran.message());
  return {};
}

Result<void> CommandRunner::run_all(const std::vector<Command>& commands) {
  for (const auto& command : commands) {
    auto ran = run(command);
    if (ran) continue;
    if (command.may_fail) {
      log_debug(kLog, "ignored (clean-up): " + ran.message());
      continue;
    }
    return ran;
  }
  return {};
}

}  // namespace bwalloc
