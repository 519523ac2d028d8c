// Commands and child processes of the tests; see process.h.
#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bwalloc::test {
namespace {

std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

int exit_code_of(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace

CommandResult run_command(const std::vector<std::string>& args) {
  CommandResult result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    auto argv = to_argv(args);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& args, const SpawnOptions& options) {
  pid_ = fork();
  if (pid_ == 0) {
    if (options.own_session) {
      setsid();
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      signal(SIGINT, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
    }
    int out = options.output_file.empty() ? open("/dev/null", O_RDWR)
                                          : open(options.output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(out, 2);
    for (const auto& [name, value] : options.default_environment) setenv(name.c_str(), value.c_str(), 0);
    auto argv = to_argv(args);
    execvp(argv[0], argv.data());
    _exit(127);
  }
}

ChildProcess::~ChildProcess() { stop(); }

void ChildProcess::reaped(int wait_status) {
  reaped_ = true;
  exit_code_ = exit_code_of(wait_status);
}

bool ChildProcess::exited() {
  if (pid_ <= 0 || reaped_) return true;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) != pid_) return false;
  reaped(status);
  return true;
}

bool ChildProcess::wait_exit(std::chrono::milliseconds patience) {
  return wait_until([&] { return exited(); }, patience, std::chrono::milliseconds(10));
}

void ChildProcess::stop() {
  if (exited()) return;
  kill(pid_, SIGTERM);
  if (wait_exit()) return;
  kill9();
}

void ChildProcess::kill9(bool group) {
  if (pid_ <= 0 || reaped_) return;
  kill(group ? -pid_ : pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped(status);
}

}  // namespace bwalloc::test
