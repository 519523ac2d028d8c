// InstanceLock on Windows: the lock file is held open without write
// sharing, so a second agent's open fails with a sharing violation. Windows
// closes the handle when the process dies, so a crash leaves no stale lock,
// as flock does on Linux. See agent/runtime/instance_lock.h.
#include <io.h>

#include <filesystem>

#include "agent/platform/windows/wide_string.h"
#include "agent/runtime/instance_lock.h"

namespace bwalloc {

namespace {
std::wstring lock_path(const std::string& state_dir) { return to_wide(state_dir + "\\agent.lock"); }

std::string read_holder_pid(const std::wstring& path) {
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return "unknown pid";
  char buf[32] = {};
  DWORD n = 0;
  ReadFile(h, buf, sizeof buf - 1, &n, nullptr);
  CloseHandle(h);
  std::string pid(buf, n);
  while (!pid.empty() && (pid.back() == '\n' || pid.back() == '\r' || pid.back() == ' ')) pid.pop_back();
  return pid.empty() ? "unknown pid" : "pid " + pid;
}
}  // namespace

Result<InstanceLock> InstanceLock::acquire(const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(to_wide(state_dir)), ec);
  if (ec) return make_error("create state directory " + state_dir, ec.message());
  const std::wstring path = lock_path(state_dir);
  // Readers may look at the pid; nobody else may open it for writing.
  HANDLE h = CreateFileW(path.c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_READ, nullptr, OPEN_ALWAYS,
                         FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    if (code == ERROR_SHARING_VIOLATION) {
      return Error{"another bwalloc agent (" + read_holder_pid(path) + ") is running with state directory " +
                   state_dir};
    }
    return make_error("open " + state_dir + "\\agent.lock", win32_error_text(code));
  }
  // The pid is only a hint for the error message above; the open handle is the lock.
  std::string pid = std::to_string(GetCurrentProcessId()) + "\n";
  DWORD written = 0;
  SetEndOfFile(h);
  WriteFile(h, pid.data(), static_cast<DWORD>(pid.size()), &written, nullptr);
  int fd = _open_osfhandle(reinterpret_cast<intptr_t>(h), 0);
  if (fd < 0) {
    CloseHandle(h);
    return Error{"open " + state_dir + "\\agent.lock: no file descriptor left"};
  }
  return InstanceLock(fd);
}

bool InstanceLock::held_by_other(const std::string& state_dir) {
  HANDLE h = CreateFileW(lock_path(state_dir).c_str(), GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr,
                         OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return GetLastError() == ERROR_SHARING_VIOLATION;
  CloseHandle(h);
  return false;
}

InstanceLock::InstanceLock(InstanceLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }

InstanceLock::~InstanceLock() {
  if (fd_ >= 0) _close(fd_);  // closes the handle, which releases the lock
}

}  // namespace bwalloc
