// Processes a test starts, always by PID (never looked up by name): a
// command run to completion for its output and exit code, and a child
// spawned in the background that is reaped however the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/wait.h"

namespace bwalloc::test {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs argv (no shell; argv[0] looked up on PATH) to completion and captures
// its output.
CommandResult run_command(const std::vector<std::string>& argv);

struct SpawnOptions {
  // Where stdout and stderr go (created or truncated); "" is /dev/null.
  std::string output_file;
  // A session and process group of its own, SIGINT and SIGTERM at their
  // defaults and no signal blocked: as a shell started from a terminal.
  bool own_session = false;
  // Environment variables set in the child unless it inherits them already.
  std::vector<std::pair<std::string, std::string>> default_environment;
};

// A child started in the background (argv[0] looked up on PATH). The
// destructor stops it: SIGTERM, waits for the exit (SIGKILL after kPatience:
// a clean stop may take a while on a loaded machine) and reaps it.
class ChildProcess {
 public:
  explicit ChildProcess(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // True once the process has exited (it is reaped here).
  bool exited();
  // Waits until it exits by itself (true), or `patience` passes (false).
  bool wait_exit(std::chrono::milliseconds patience = kPatience);
  // Its exit status once reaped, 128 + the signal when a signal ended it;
  // -1 while it runs.
  int exit_code() const { return exit_code_; }
  // SIGTERM, then SIGKILL if it has not exited after kPatience; reaped.
  void stop();
  // SIGKILL to the process (to its whole process group with `group`); reaped.
  void kill9(bool group = false);

 private:
  void reaped(int wait_status);

  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
};

}  // namespace bwalloc::test
