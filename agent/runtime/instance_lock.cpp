// flock-based single-instance lock; see instance_lock.h.
#include "agent/runtime/instance_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace bwalloc {

namespace {
std::string lock_path(const std::string& state_dir) { return state_dir + "/agent.lock"; }

std::string read_holder_pid(int fd) {
  char buf[32] = {};
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "unknown pid";
  std::string pid(buf, static_cast<size_t>(n));
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' ')) pid.pop_back();
  return "pid " + pid;
}
}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::string& state_dir) {
  if (mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("create state directory " + state_dir, std::strerror(errno));
  }
  int fd = open(lock_path(state_dir).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("open " + lock_path(state_dir), std::strerror(errno));
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder = read_holder_pid(fd);
    close(fd);
    return Error{"another bwalloc agent (" + holder + ") is running with state directory " + state_dir};
  }
  std::string pid = std::to_string(getpid()) + "\n";
  if (ftruncate(fd, 0) != 0 || pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    // The pid is only a hint for the error message above; the lock is what counts.
  }
  return InstanceLock(fd);
}

bool InstanceLock::held_by_other(const std::string& state_dir) {
  int fd = open(lock_path(state_dir).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  close(fd);
  return held;
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) close(fd_);  // closing releases the flock
}

}  // namespace bwalloc
