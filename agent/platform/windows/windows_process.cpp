// CreateProcessW runner; see windows_process.h.
#include "agent/platform/windows/windows_process.h"

#include <thread>
#include <vector>

#include "agent/platform/windows/command_line_quote.h"
#include "agent/platform/windows/wide_string.h"

namespace bwalloc {

namespace {
std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (text.size() > 2000) text = text.substr(0, 2000) + "...";
  return text;
}
// The program's full path. A bare name is looked up only in Windows' own
// directories, never in the current directory or PATH: the agent runs as
// an administrator, and a planted powershell.exe must not run in its place.
Result<std::wstring> resolve_program(const std::string& name) {
  if (name.find_first_of("\\/") != std::string::npos) return to_wide(name);
  wchar_t system_dir[MAX_PATH];
  UINT n = GetSystemDirectoryW(system_dir, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return make_error("find the system directory", win32_error_text(GetLastError()));
  const std::wstring system(system_dir, n);
  const std::wstring search = system + L";" + system + L"\\WindowsPowerShell\\v1.0";
  wchar_t found[MAX_PATH];
  DWORD length = SearchPathW(search.c_str(), to_wide(name).c_str(), nullptr, MAX_PATH, found, nullptr);
  if (length == 0 || length >= MAX_PATH) {
    return Error{name + " is not in " + to_utf8(system) + " or its WindowsPowerShell\\v1.0 directory"};
  }
  return std::wstring(found, length);
}
}  // namespace

Result<void> run_windows_process(const std::vector<std::string>& argv, unsigned timeout_ms) {
  if (argv.empty()) return Error{"run a command: empty argv"};
  const std::string what = argv[0];
  auto program = resolve_program(what);
  if (!program) return make_error("run " + what, program.message());
  SECURITY_ATTRIBUTES inherit{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
  HANDLE err_read = nullptr, err_write = nullptr;
  if (!CreatePipe(&err_read, &err_write, &inherit, 0)) {
    return make_error("run " + what + ": create a pipe", win32_error_text(GetLastError()));
  }
  SetHandleInformation(err_read, HANDLE_FLAG_INHERIT, 0);  // only the write end goes to the child
  HANDLE null_out = CreateFileW(L"NUL", GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_EXISTING,
                                FILE_ATTRIBUTE_NORMAL, nullptr);
  if (null_out == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    CloseHandle(err_read);
    CloseHandle(err_write);
    return make_error("run " + what + ": open NUL", win32_error_text(code));
  }
  // The child inherits these two handles and nothing else: not the agent's
  // sockets (a PowerShell still running must never hold the API port).
  HANDLE inherited[2] = {null_out, err_write};
  SIZE_T attr_size = 0;
  InitializeProcThreadAttributeList(nullptr, 1, 0, &attr_size);
  std::vector<unsigned char> attr_buffer(attr_size);
  auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attr_buffer.data());
  bool restricted = InitializeProcThreadAttributeList(attributes, 1, 0, &attr_size) &&
                    UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited,
                                              sizeof inherited, nullptr, nullptr);
  STARTUPINFOEXW startup{};
  startup.StartupInfo.cb = sizeof startup;
  startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
  startup.StartupInfo.hStdInput = nullptr;
  startup.StartupInfo.hStdOutput = null_out;
  startup.StartupInfo.hStdError = err_write;
  startup.lpAttributeList = restricted ? attributes : nullptr;
  // CreateProcessW may write into the command line: give it its own buffer.
  std::wstring line = to_wide(windows_command_line(argv));
  PROCESS_INFORMATION process{};
  BOOL started = restricted && CreateProcessW(program->c_str(), line.data(), nullptr, nullptr, TRUE,
                                              CREATE_NO_WINDOW | EXTENDED_STARTUPINFO_PRESENT, nullptr, nullptr,
                                              &startup.StartupInfo, &process);
  DWORD start_error = GetLastError();
  if (restricted) DeleteProcThreadAttributeList(attributes);
  CloseHandle(err_write);
  CloseHandle(null_out);
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
  if (timed_out) {
    return Error{what + " did not finish within " + std::to_string(timeout_ms / 1000) + " s and was stopped"};
  }
  if (code != 0) {
    return Error{what + " exited with " + std::to_string(code) + (err.empty() ? "" : ": " + trimmed(err))};
  }
  return {};
}

}  // namespace bwalloc
