// load_pcap_api() on Windows: Npcap's wpcap.dll, loaded at run time so the
// agent starts (and says what to do) on a machine without Npcap. Npcap
// installs its DLLs in %SystemRoot%\System32\Npcap, which is not on the
// DLL search path, so that directory is searched first. See
// agent/fallback/pcap_api.h.
#include <windows.h>

#include "agent/fallback/pcap_api.h"
#include "agent/platform/windows/wide_string.h"

namespace bwalloc {

namespace {
constexpr const char* kInstallHint = "install it from npcap.com; capture is off";

HMODULE load_wpcap() {
  wchar_t system_dir[MAX_PATH];
  UINT n = GetSystemDirectoryW(system_dir, MAX_PATH);
  if (n > 0 && n < MAX_PATH) {
    std::wstring npcap_dir = std::wstring(system_dir, n) + L"\\Npcap";
    // wpcap.dll loads Packet.dll from the same place: make it findable too.
    SetDllDirectoryW(npcap_dir.c_str());
    HMODULE module = LoadLibraryW((npcap_dir + L"\\wpcap.dll").c_str());
    if (module) return module;
  }
  // Npcap's "WinPcap API-compatible mode" puts wpcap.dll in System32 itself.
  return LoadLibraryExW(L"wpcap.dll", nullptr, LOAD_LIBRARY_SEARCH_SYSTEM32 | LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR);
}

template <class Fn>
bool bind(HMODULE module, const char* symbol, Fn& slot, std::string& missing) {
  FARPROC address = GetProcAddress(module, symbol);
  if (!address) {
    missing += missing.empty() ? symbol : std::string(", ") + symbol;
    return false;
  }
  slot = reinterpret_cast<Fn>(reinterpret_cast<void*>(address));
  return true;
}
}  // namespace

Result<PcapApi> load_pcap_api() {
  // Loaded once and kept for the life of the process, like a linked library.
  static HMODULE module = load_wpcap();
  if (!module) {
    return Error{std::string("Npcap is not installed (wpcap.dll not found): ") + kInstallHint};
  }
  PcapApi api;
  std::string missing;
  bind(module, "pcap_create", api.create, missing);
  bind(module, "pcap_set_snaplen", api.set_snaplen, missing);
  bind(module, "pcap_set_promisc", api.set_promisc, missing);
  bind(module, "pcap_set_timeout", api.set_timeout, missing);
  bind(module, "pcap_set_buffer_size", api.set_buffer_size, missing);
  bind(module, "pcap_activate", api.activate, missing);
  bind(module, "pcap_datalink", api.datalink, missing);
  bind(module, "pcap_dispatch", api.dispatch, missing);
  bind(module, "pcap_breakloop", api.breakloop, missing);
  bind(module, "pcap_stats", api.stats, missing);
  bind(module, "pcap_geterr", api.geterr, missing);
  bind(module, "pcap_close", api.close, missing);
  bind(module, "pcap_lib_version", api.lib_version, missing);
  if (!missing.empty()) {
    return Error{"wpcap.dll lacks " + missing +
                 " (an old WinPcap?): install a current Npcap from npcap.com; "
                 "capture is off"};
  }
  return api;
}

}  // namespace bwalloc
