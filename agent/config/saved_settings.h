// Loading the runtime settings the store saved (POST /api/config, Smart
// Auto Mode) back over the config file's at start-up. Pure: rows in, the
// merged Config and what could not be loaded out.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/config/config.h"

namespace bwalloc {

struct LoadedSettings {
  Config config;
  std::vector<std::string> skipped;  // one line per saved row not loaded: key, value and why
};

LoadedSettings load_saved_settings(const Config& base, const std::vector<std::pair<std::string, std::string>>& saved);

}  // namespace bwalloc
