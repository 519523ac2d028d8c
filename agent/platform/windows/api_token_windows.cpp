// The API token file on Windows: random bytes from the system's CSPRNG
// (BCryptGenRandom) and a file created only if it does not exist yet. The
// file inherits the ACL of the state directory (under %ProgramData% only
// administrators may write it). See agent/http/api_token.h.
#include <windows.h>
#include <bcrypt.h>

#include <filesystem>
#include <fstream>

#include "agent/http/api_token.h"
#include "agent/platform/windows/wide_string.h"

namespace bwalloc {

Result<std::string> load_or_create_token(const std::string& path) {
  const std::filesystem::path file(to_wide(path));
  std::ifstream in(file);
  if (in) {
    std::string token;
    std::getline(in, token);
    while (!token.empty() && token.back() == '\r') token.pop_back();
    if (token.size() >= 32) return token;
    return Error{"token file " + path +
                 " holds no usable token (expected 64 hex characters); delete it to make a new one"};
  }
  std::error_code ec;
  if (file.has_parent_path()) std::filesystem::create_directories(file.parent_path(), ec);
  unsigned char bytes[32];
  NTSTATUS status = BCryptGenRandom(nullptr, bytes, sizeof bytes, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
  if (status != 0) return Error{"read random bytes: BCryptGenRandom failed with status " + std::to_string(status)};
  static const char* hex = "0123456789abcdef";
  std::string token;
  for (unsigned char b : bytes) {
    token += hex[b >> 4];
    token += hex[b & 15];
  }
  HANDLE h = CreateFileW(file.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr);
  if (h == INVALID_HANDLE_VALUE) return make_error("create token file " + path, win32_error_text(GetLastError()));
  std::string line = token + "\n";
  DWORD written = 0;
  bool ok = WriteFile(h, line.data(), static_cast<DWORD>(line.size()), &written, nullptr) && written == line.size();
  CloseHandle(h);
  if (!ok) return make_error("write token file " + path, win32_error_text(GetLastError()));
  return token;
}

}  // namespace bwalloc
