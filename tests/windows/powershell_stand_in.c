/* A stand-in powershell.exe for the Wine test: it runs nothing and appends
 * its whole command line (as CreateProcessW passed it, UTF-8, one line per
 * start) to commands.log beside itself, so the test can check the exact
 * NetQos cmdlets the agent's runner sends. Exits 0 like a cmdlet that
 * worked. Built by check_windows_run.sh with mingw-w64. */
#include <windows.h>

int wmain(void) {
  wchar_t log_path[MAX_PATH];
  DWORD n = GetModuleFileNameW(NULL, log_path, MAX_PATH);
  if (n == 0 || n >= MAX_PATH) return 3;
  while (n > 0 && log_path[n - 1] != L'\\') --n;
  if (n + 13 >= MAX_PATH) return 3;
  lstrcpyW(log_path + n, L"commands.log");

  const wchar_t* line = GetCommandLineW();
  int size = WideCharToMultiByte(CP_UTF8, 0, line, -1, NULL, 0, NULL, NULL);
  if (size <= 0) return 3;
  char* text = (char*)HeapAlloc(GetProcessHeap(), 0, (SIZE_T)size + 1);
  if (!text) return 3;
  WideCharToMultiByte(CP_UTF8, 0, line, -1, text, size, NULL, NULL);
  text[size - 1] = '\n'; /* in place of the terminating NUL */

  /* FILE_APPEND_DATA: each start adds its line at the end, never over another. */
  HANDLE log = CreateFileW(log_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_ALWAYS,
                           FILE_ATTRIBUTE_NORMAL, NULL);
  if (log == INVALID_HANDLE_VALUE) return 3;
  DWORD written = 0;
  BOOL ok = WriteFile(log, text, (DWORD)size, &written, NULL) && written == (DWORD)size;
  CloseHandle(log);
  return ok ? 0 : 3;
}
