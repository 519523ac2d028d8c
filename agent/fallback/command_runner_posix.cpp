// PosixCommandRunner::execute: fork + execvp, no shell. The child joins the
// network namespace the runner was made in (an admin command may arrive on
// an HTTP thread that lives outside the router's namespace), keeps stderr
// for the error message and sends stdout to /dev/null.
#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/fallback/command_runner.h"

namespace bwalloc {

namespace {
constexpr size_t kMaxStderr = 4096;

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  for (char& c : s) {
    if (c == '\n') c = ' ';
  }
  return s;
}
}  // namespace

PosixCommandRunner::PosixCommandRunner(bool dry_run) : CommandRunner(dry_run) {
  netns_fd_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

PosixCommandRunner::~PosixCommandRunner() {
  if (netns_fd_ >= 0) close(netns_fd_);
}

Result<void> PosixCommandRunner::execute(const std::vector<std::string>& argv) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  bool switch_netns = false;
  if (netns_fd_ >= 0) {
    struct stat ours {}, wanted {};
    switch_netns = stat("/proc/thread-self/ns/net", &ours) == 0 && fstat(netns_fd_, &wanted) == 0 &&
                   (ours.st_ino != wanted.st_ino || ours.st_dev != wanted.st_dev);
  }
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + strerror(errno)};
  const int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid < 0) {
    const int saved = errno;
    close(err_pipe[0]);
    close(err_pipe[1]);
    if (devnull >= 0) close(devnull);
    return Error{std::string("fork: ") + strerror(saved)};
  }
  if (pid == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
    const int nullin = open("/dev/null", O_RDONLY);
    if (nullin >= 0) dup2(nullin, STDIN_FILENO);
    if (switch_netns && setns(netns_fd_, CLONE_NEWNET) != 0) {
      static const char msg[] = "cannot enter the datapath's network namespace\n";
      (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
      _exit(126);
    }
    execvp(args[0], args.data());
    static const char msg[] = "cannot execute the program (not installed?)\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  close(err_pipe[1]);
  if (devnull >= 0) close(devnull);
  std::string errors;
  char buf[512];
  for (;;) {
    const ssize_t n = read(err_pipe[0], buf, sizeof buf);
    if (n > 0) {
      if (errors.size() < kMaxStderr) errors.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    break;
  }
  close(err_pipe[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return Error{std::string("waitpid: ") + strerror(errno)};
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string how = WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status))
                                      : "killed by signal " + std::to_string(WTERMSIG(status));
  errors = trim(errors.substr(0, kMaxStderr));
  return Error{how + (errors.empty() ? "" : ": " + errors)};
}

}  // namespace bwalloc
