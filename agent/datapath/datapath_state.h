// DatapathState: what the datapath changed on the system beyond its pins
// (the clsact qdiscs it created, the root qdiscs it replaced), kept in a
// small key=value file in the state directory so `bwalloc detach` (maybe a
// different process, after a crash) undoes exactly that and nothing else.
#pragma once

#include <map>
#include <string>

#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"
#include "agent/datapath/role.h"

namespace bwalloc {

struct DatapathState {
  std::map<std::string, std::string> values;  // e.g. "clsact_created.lan" -> "1"

  bool flag(const std::string& key) const { return values.contains(key) && values.at(key) == "1"; }
  void set_flag(const std::string& key, bool on) {
    if (on)
      values[key] = "1";
    else
      values.erase(key);
  }
};

// The keys, one set per role (".lan", ".wan"): the clsact qdisc bwalloc
// created, the fq it installed as root, and what the root was before.
std::string clsact_created_key(Role role);
std::string qdisc_installed_key(Role role);
std::string qdisc_previous_key(Role role);
std::string qdisc_previous_handle_key(Role role);

// Where the state file lives: in the configured state directory.
std::string datapath_state_path(const DatapathConfig& config);

// Missing file = empty state. Unparseable lines are an error naming the line.
[[nodiscard]] Result<DatapathState> load_datapath_state(const std::string& path);
// Written atomically (temp file + rename), mode 0600.
[[nodiscard]] Result<void> save_datapath_state(const std::string& path, const DatapathState& state);

}  // namespace bwalloc
