// CreateProcessW runner; see windows_process.h.
#include "agent/platform/windows/windows_process.h"

#include <thread>

#include "agent/platform/windows/command_line_quote.h"
#include "agent/platform/windows/wide_string.h"

namespace bwalloc {

namespace {
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() > 2000) text = text.substr(0, 2000) + "...";
  return text;
}
}  // namespace

Result<void> run_windows_process(const std::vector<std::string>& argv, unsigned timeout_ms) {
  if (argv.empty()) return Error{"run a command: empty argv"};
  const std::string what = argv[0];
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE err_read = nullptr, err_write = nullptr;
  if (!CreatePipe(&err_read, &err_write, &inherit, 0)) {
    return make_error("run " + what + ": create a pipe", win32_error_text(GetLastError()));
  }
  SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);  // only the write end goes to the child
  HANDLE null_out = CreateFileW(L"NUL", GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr);
  STARTUPINFOW startup{};
  startup.cb = sizeof startup;
  startup.dwFlags = STARTF_USESTDHANDLES;
  startup.hStdInput = nullptr;
  startup.hStdOutput = null_out;
  startup.hStdError = err_write;
  // CreateProcessW may write into the command line: give it its own buffer.
  std::wstring line = to_wide(windows_command_line(argv));
  PROCESS_INFORMATION process{};
  BOOL started = CreateProcessW(nullptr, line.data(), nullptr, nullptr, TRUE, CREATE_NO_WINDOW, nullptr, nullptr,
                                &startup, &process);
  DWORD start_error = GetLastError();
  CloseHandle(err_write);
  if (null_out != INVALID_HANDLE_VALUE) CloseHandle(null_out);
  if (!started) {
    CloseHandle(err_read);
    return make_error("run " + what, win32_error_text(start_error));
  }
  // Drain stderr while the child runs, so a chatty child never blocks on a full pipe.
  std::string err;
  std::thread reader([&] {
    char buf[4096];
    DWORD n = 0;
    while (ReadFile(err_read, buf, sizeof buf, &n, nullptr) && n > 0) {
      if (err.size() < 65536) err.append(buf, n);
    }
  });
  bool timed_out = WaitForSingleObject(process.hProcess, timeout_ms) == WAIT_TIMEOUT;
  if (timed_out) {
    TerminateProcess(process.hProcess, 1);
    WaitForSingleObject(process.hProcess, INFINITE);
  }
  reader.join();
  DWORD code = 0;
  GetExitCodeProcess(process.hProcess, &code);
  CloseHandle(process.hProcess);
  CloseHandle(process.hThread);
  CloseHandle(err_read);
  if (timed_out) return Error{what + " did not finish within " + std::to_string(timeout_ms / 1000) + " s and was stopped"};
  if (code != 0) {
    return Error{what + " exited with " + std::to_string(code) + (err.empty() ? "" : ": " + trimmed(err))};
  }
  return {};
}

}  // namespace bwalloc
