// PosixCommandRunner: fork + execvp on a worker thread, no shell; see
// command_runner.h. The child keeps stderr for the error message and sends
// stdout to /dev/null.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>

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

Result<void> spawn(const std::vector<std::string>& argv) {
  // Everything the child needs is prepared before fork: after it, only
  // async-signal-safe calls.
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + strerror(errno)};
  const int devnull_out = open("/dev/null", O_WRONLY | O_CLOEXEC);
  const int devnull_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(err_pipe[1], STDERR_FILENO);
    if (devnull_out >= 0) dup2(devnull_out, STDOUT_FILENO);
    if (devnull_in >= 0) dup2(devnull_in, STDIN_FILENO);
    execvp(args[0], args.data());
    static const char msg[] = "cannot execute the program (not installed?)\n";
    (void)!write(STDERR_FILENO, msg, sizeof msg - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  close(err_pipe[1]);
  if (devnull_out >= 0) close(devnull_out);
  if (devnull_in >= 0) close(devnull_in);
  if (pid < 0) {
    close(err_pipe[0]);
    return Error{std::string("fork: ") + strerror(fork_errno)};
  }
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
}  // namespace

PosixCommandRunner::PosixCommandRunner(bool dry_run) : CommandRunner(dry_run), worker_([this] { work(); }) {}

PosixCommandRunner::~PosixCommandRunner() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  worker_.join();
}

void PosixCommandRunner::work() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || job_; });
    if (job_) {
      auto job = std::move(job_);
      job_ = nullptr;
      lock.unlock();
      job();
      lock.lock();
      continue;
    }
    if (stopping_) return;
  }
}

Result<void> PosixCommandRunner::execute(const std::vector<std::string>& argv) {
  std::promise<Result<void>> done;
  auto result = done.get_future();
  {
    std::lock_guard lock(mutex_);
    job_ = [&] { done.set_value(spawn(argv)); };
  }
  wake_.notify_all();
  return result.get();
}

}  // namespace bwalloc
