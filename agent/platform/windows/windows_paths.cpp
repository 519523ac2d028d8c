// Windows default paths; see windows_paths.h.
#include "agent/platform/windows/windows_paths.h"

namespace bwalloc {

namespace {
void replace_default(std::string& value, const std::string& linux_default, const std::string& windows_path) {
  if (value == linux_default) value = windows_path;
}
}  // namespace

void apply_windows_default_paths(Config& config, const std::string& program_data, const std::string& exe_dir) {
  const Config defaults;
  const std::string data = program_data + "\\bwalloc";
  replace_default(config.store.path, defaults.store.path, data + "\\bwalloc.db");
  replace_default(config.http.token_file, defaults.http.token_file, data + "\\api-token");
  replace_default(config.datapath.state_dir, defaults.datapath.state_dir, data + "\\run");
  replace_default(config.http.web_root, defaults.http.web_root, exe_dir + "\\web");
  // Vendor names come from the IEEE list only where Debian's ieee-data is.
  replace_default(config.discovery.oui_file, defaults.discovery.oui_file, exe_dir + "\\oui.txt");
}

}  // namespace bwalloc
