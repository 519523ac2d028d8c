// key=value persistence of DatapathState; see datapath_state.h.
#include "agent/datapath/datapath_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace bwalloc {

std::string datapath_state_path(const DatapathConfig& config) { return config.state_dir + "/datapath.state"; }

std::string clsact_created_key(Role role) { return std::string("clsact_created.") + hooks_of(role).name; }
std::string qdisc_installed_key(Role role) { return std::string("qdisc_installed.") + hooks_of(role).name; }
std::string qdisc_previous_key(Role role) { return std::string("qdisc_previous.") + hooks_of(role).name; }
std::string qdisc_previous_handle_key(Role role) { return std::string("qdisc_previous_handle.") + hooks_of(role).name; }

Result<DatapathState> load_datapath_state(const std::string& path) {
  DatapathState state;
  std::ifstream in(path);
  if (!in) {
    if (errno == ENOENT) return state;
    return make_error("read " + path, std::strerror(errno));
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error{path + ":" + std::to_string(number) + ": expected key=value, found '" + line + "'"};
    }
    state.values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return state;
}

Result<void> save_datapath_state(const std::string& path, const DatapathState& state) {
  std::ostringstream text;
  text << "# bwalloc datapath state: what detach must undo. Written by the agent.\n";
  for (const auto& [key, value] : state.values) text << key << '=' << value << '\n';
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("write " + tmp, std::strerror(errno));
  const std::string data = text.str();
  bool written = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!written || !synced || ::rename(tmp.c_str(), path.c_str()) != 0) {
    return make_error("write " + path, std::strerror(errno));
  }
  return {};
}

}  // namespace bwalloc
