// TOML parsing through toml++; see config_loader.h.
#include "agent/config/config_loader.h"

#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "agent/common/log.h"
#include "agent/config/config_keys.h"

namespace bwalloc {

namespace {
Result<ConfigValue> to_value(const toml::node& node) {
  if (auto b = node.as_boolean()) return ConfigValue{b->get()};
  if (auto i = node.as_integer()) return ConfigValue{i->get()};
  if (auto f = node.as_floating_point()) return ConfigValue{f->get()};
  if (auto s = node.as_string()) return ConfigValue{s->get()};
  if (auto a = node.as_array()) {
    std::vector<ConfigValue> items;
    for (const auto& item : *a) {
      auto v = to_value(item);
      if (!v) return v.error();
      items.push_back(*v);
    }
    return ConfigValue{items};
  }
  return Error{"unsupported value type (use a string, number, boolean or list)"};
}

std::string where(const std::string& origin, const toml::source_region& source) {
  return origin + ":" + std::to_string(source.begin.line);
}

Result<void> apply_key(Config& config, const std::string& name, const toml::node& node, bool runtime_only) {
  const ConfigKey* key = find_config_key(name);
  if (!key) {
    if (const char* renamed = renamed_config_key(name)) {
      log_warn("config", "'" + name + "' is now '" + renamed +
                             "' (counted against the limit, sent first while sparse); " + "reading it as '" + renamed +
                             "': rename it in your config");
      key = find_config_key(renamed);
    }
  }
  if (!key) return Error{"unknown setting '" + name + "' (bwalloc --help lists every setting)"};
  if (runtime_only && !key->runtime)
    return Error{"'" + name + "' cannot change while the agent runs; edit the config file and restart"};
  auto value = to_value(node);
  if (!value) return Error{name + ": " + value.message()};
  auto set = key->set(config, *value);
  if (!set) return Error{name + ": " + set.message()};
  return {};
}
}  // namespace

Result<void> validate(const Config& c) {
  if (c.allocator.high_below_bits_per_sec >= c.allocator.low_above_bits_per_sec) {
    return Error{"allocator.high_below (" + std::to_string(c.allocator.high_below_bits_per_sec) +
                 " bit/s) must be below allocator.low_above (" + std::to_string(c.allocator.low_above_bits_per_sec) +
                 " bit/s)"};
  }
  if (c.allocator.tick < std::chrono::milliseconds(100) || c.allocator.tick > std::chrono::minutes(10)) {
    return Error{"allocator.tick must be between 100ms and 10m"};
  }
  if (c.allocator.spike_min_samples > c.allocator.window_samples) {
    return Error{"allocator.spike_min_samples must not exceed allocator.window_samples"};
  }
  if (c.rates.low_bits_per_sec == 0 || c.rates.normal_bits_per_sec == 0 || c.rates.high_bits_per_sec == 0) {
    return Error{"rates.high, rates.normal and rates.low must be above 0 (use Blocked to stop a device)"};
  }
  if (c.datapath.horizon_ns < 1'000'000 || c.datapath.horizon_ns > 10'000'000'000ull) {
    return Error{"datapath.horizon must be between 1ms and 10s"};
  }
  if (c.datapath.policer_burst_ns < 1'000'000 || c.datapath.policer_burst_ns > 10'000'000'000ull) {
    return Error{"datapath.policer_burst must be between 1ms and 10s"};
  }
  if (c.datapath.ce_target_ns >= c.datapath.horizon_ns) {
    return Error{"datapath.ce_target must be below datapath.horizon (mark before dropping)"};
  }
  if (c.datapath.lan_interface.empty()) return Error{"datapath.lan_interface must name an interface"};
  if (c.datapath.lan_interface == c.datapath.wan_interface) {
    return Error{"datapath.lan_interface and datapath.wan_interface must differ"};
  }
  if (c.datapath.priority_ports.size() > 256) return Error{"at most 256 priority ports"};
  if (c.datapath.unlimited_ports.size() > 256) return Error{"at most 256 unlimited ports"};
  if (c.store.path.empty()) return Error{"store.path must name a file"};
  if (c.store.raw_retention < std::chrono::minutes(10)) return Error{"store.raw_retention must be at least 10m"};
  return {};
}

Result<Config> parse_config(const std::string& text, const std::string& origin, Config base) {
  toml::table table;
  try {
    table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    return Error{where(origin, e.source()) + ": " + std::string(e.description())};
  }
  for (const auto& [section, node] : table) {
    auto* sub = node.as_table();
    if (!sub) {
      return Error{where(origin, node.source()) + ": '" + std::string(section.str()) +
                   "' must be a [section] (agent, datapath, allocator, rates, store, http, discovery, metrics)"};
    }
    for (const auto& [name, value] : *sub) {
      std::string full = std::string(section.str()) + "." + std::string(name.str());
      auto applied = apply_key(base, full, value, false);
      if (!applied) return Error{where(origin, value.source()) + ": " + applied.message()};
    }
  }
  if (auto valid = validate(base); !valid) return Error{origin + ": " + valid.message()};
  return base;
}

Result<Config> load_config_file(const std::string& path, bool required) {
  std::ifstream in(path);
  if (!in) {
    if (!required) return Config{};
    return Error{"cannot read config file " + path};
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_config(text.str(), path);
}

namespace {
// Sets one key from its TOML text without the cross-field checks (the caller
// validates the whole result).
Result<void> apply_text(Config& config, const std::string& name, const std::string& value, bool runtime_only) {
  toml::table parsed;
  try {
    parsed = toml::parse("v = " + value);
  } catch (const toml::parse_error&) {
    // Not TOML: a bare word like lan0 means the string "lan0".
    parsed = toml::table{{"v", value}};
  }
  return apply_key(config, name, *parsed.get("v"), runtime_only);
}
}  // namespace

Result<void> apply_override(Config& config, const std::string& assignment, bool runtime_only) {
  auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0) {
    return Error{"--set expects section.key=value, found '" + assignment + "'"};
  }
  Config candidate = config;
  auto applied = apply_text(candidate, assignment.substr(0, eq), assignment.substr(eq + 1), runtime_only);
  if (!applied) return Error{"--set " + assignment + ": " + applied.message()};
  if (auto valid = validate(candidate); !valid) return Error{"--set " + assignment + ": " + valid.message()};
  config = candidate;
  return {};
}

// The cross-field checks run once, on the result: changes that only fit
// together (high_below and low_above both raised) pass in any order.
Result<Config> with_changes(const Config& config, const std::vector<std::pair<std::string, std::string>>& changes,
                            bool runtime_only) {
  Config candidate = config;
  for (const auto& [key, value] : changes) {
    auto applied = apply_text(candidate, key, value, runtime_only);
    if (!applied) return applied.error();
  }
  if (auto valid = validate(candidate); !valid) return valid.error();
  return candidate;
}

std::string render_config(const Config& config) {
  std::string out, section;
  for (const auto& key : config_keys()) {
    auto dot = key.name.find('.');
    std::string sec = key.name.substr(0, dot);
    if (sec != section) {
      out += (out.empty() ? "" : "\n") + std::string("[") + sec + "]\n";
      section = sec;
    }
    out += "# " + key.description + (key.runtime ? " (changeable at run time)" : "") + "\n";
    out += key.name.substr(dot + 1) + " = " + key.get(config) + "\n";
  }
  return out;
}

}  // namespace bwalloc
