// Reading the TOML config file and `--set section.key=value` overrides into a
// Config. Errors name the file and line (or the override) and what is
// accepted; nothing half-applied survives an error.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "agent/common/result.h"
#include "agent/config/config.h"

namespace bwalloc {

inline constexpr const char* kDefaultConfigPath = "/etc/bwalloc/bwalloc.toml";

// Parses TOML text; `origin` names it in errors (a path, usually).
[[nodiscard]] Result<Config> parse_config(const std::string& text, const std::string& origin, Config base = {});

// Reads a config file. A missing file is an error only when `required`
// (the operator named it); otherwise the defaults apply.
[[nodiscard]] Result<Config> load_config_file(const std::string& path, bool required);

// Applies one "section.key=value" override. The value is TOML ("20Mbit" in
// quotes, 3, true, [53, 22]); a bare word that is not TOML counts as a string.
[[nodiscard]] Result<void> apply_override(Config& config, const std::string& assignment, bool runtime_only = false);

// Applies several changes atomically: all of them, or none when one fails.
[[nodiscard]] Result<Config> with_changes(const Config& config,
                                          const std::vector<std::pair<std::string, std::string>>& changes,
                                          bool runtime_only);

// "key = value" lines for every key, as a TOML file would hold them.
std::string render_config(const Config& config);

}  // namespace bwalloc
