// ConfigValue: one value from the TOML file or a `--set` override, with
// converters that accept what an operator would write ("20Mbit", "20ms",
// "24h") and say what is accepted when it does not fit.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "agent/common/result.h"

namespace bwalloc {

struct ConfigValue {
  std::variant<bool, int64_t, double, std::string, std::vector<ConfigValue>> value;
};

[[nodiscard]] Result<bool> as_bool(const ConfigValue& v);
[[nodiscard]] Result<int64_t> as_integer(const ConfigValue& v, int64_t min, int64_t max);
[[nodiscard]] Result<double> as_double(const ConfigValue& v, double min, double max);
[[nodiscard]] Result<std::string> as_string(const ConfigValue& v);
// Bits per second: a number, or "80kbit", "20Mbit", "1.5Gbit", "500kbps" (bits).
[[nodiscard]] Result<uint64_t> as_rate_bits(const ConfigValue& v);
// A duration: a number of milliseconds, or "20ms", "1s", "5m", "24h", "7d".
[[nodiscard]] Result<std::chrono::milliseconds> as_duration(const ConfigValue& v);
[[nodiscard]] Result<std::vector<uint16_t>> as_port_list(const ConfigValue& v);
[[nodiscard]] Result<std::vector<std::string>> as_string_list(const ConfigValue& v);

// Parses unit text alone (pure, for tests and for the converters above).
[[nodiscard]] Result<uint64_t> parse_rate_bits(const std::string& text);
[[nodiscard]] Result<std::chrono::milliseconds> parse_duration(const std::string& text);

std::string format_rate_bits(uint64_t bits_per_sec);       // "20Mbit"
std::string format_duration(std::chrono::milliseconds d);  // "20ms", "24h"

}  // namespace bwalloc
