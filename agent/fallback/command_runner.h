// CommandRunner: runs the shaper's commands one at a time (a mutex), as
// argv without a shell, and turns a failure into an error carrying the
// program's stderr. In dry-run mode it logs each command instead of
// running it. The platform part is execute(): fork/execvp on POSIX
// (PosixCommandRunner), CreateProcess on Windows.
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "agent/common/result.h"
#include "agent/fallback/command_shaper.h"

namespace bwalloc {

class CommandRunner {
 public:
  explicit CommandRunner(bool dry_run) : dry_run_(dry_run) {}
  virtual ~CommandRunner() = default;

  // Runs one command; an error names it and carries its stderr.
  [[nodiscard]] Result<void> run(const Command& command);
  // Runs commands in order, stopping at the first failure (commands that
  // may_fail are logged at debug level and passed over).
  [[nodiscard]] Result<void> run_all(const std::vector<Command>& commands);

  bool dry_run() const { return dry_run_; }

 protected:
  // Runs argv and waits for it; an error when it cannot start or exits
  // non-zero, with the program's stderr (trimmed) in the message.
  [[nodiscard]] virtual Result<void> execute(const std::vector<std::string>& argv) = 0;

 private:
  std::mutex mutex_;
  bool dry_run_;
};

// fork + execvp, stderr captured through a pipe, stdout to /dev/null. The
// children are forked by a worker thread made in the constructor, so they
// run in the network namespace the runner was created in even when a
// policy change arrives on a thread outside it (an HTTP admin command with
// --netns), and no CAP_SYS_ADMIN is needed to get there.
class PosixCommandRunner final : public CommandRunner {
 public:
  explicit PosixCommandRunner(bool dry_run);
  ~PosixCommandRunner() override;
  PosixCommandRunner(const PosixCommandRunner&) = delete;
  PosixCommandRunner& operator=(const PosixCommandRunner&) = delete;

 protected:
  Result<void> execute(const std::vector<std::string>& argv) override;

 private:
  void work();

  std::mutex mutex_;
  std::condition_variable wake_;
  std::function<void()> job_;  // the one pending command (run() is serialised)
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace bwalloc
