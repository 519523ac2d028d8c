// The table of every configuration key: how to read it from TOML or the
// command line, how to print it, whether it may change while running. One
// table drives the config file, `--set`, `bwalloc --help`, GET/POST
// /api/config and the README's reference, so they can never disagree.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "agent/common/result.h"
#include "agent/config/config.h"
#include "agent/config/config_value.h"

namespace bwalloc {

struct ConfigKey {
  std::string name;         // "section.key"
  std::string description;  // one line, for --help and the README
  bool runtime = false;     // may change while the agent runs
  std::function<Result<void>(Config&, const ConfigValue&)> set;
  std::function<std::string(const Config&)> get;  // as TOML would write it
};

const std::vector<ConfigKey>& config_keys();
const ConfigKey* find_config_key(const std::string& name);

// The current name of a key that was renamed (still read, with a warning
// naming the new key), or nullptr.
const char* renamed_config_key(const std::string& old_name);

}  // namespace bwalloc
