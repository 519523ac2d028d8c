// Conversions of configuration values; see config_value.h.
#include "agent/config/config_value.h"

#include <cmath>
#include <cstdlib>

namespace bwalloc {

namespace {
std::string describe(const ConfigValue& v) {
  if (std::holds_alternative<bool>(v.value)) return std::get<bool>(v.value) ? "true" : "false";
  if (std::holds_alternative<int64_t>(v.value)) return std::to_string(std::get<int64_t>(v.value));
  if (std::holds_alternative<double>(v.value)) return std::to_string(std::get<double>(v.value));
  if (std::holds_alternative<std::string>(v.value)) return "\"" + std::get<std::string>(v.value) + "\"";
  return "a list";
}

// Splits "20.5Mbit" into 20.5 and "Mbit".
bool split_number_unit(const std::string& text, double& number, std::string& unit) {
  if (text.empty()) return false;
  char* end = nullptr;
  number = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || !std::isfinite(number)) return false;
  unit.assign(end);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  return true;
}

// The caps below hold for every form of a value (a number, or text with a
// unit): a value one form refuses must not get in through the other, or it
// is saved as text the next start refuses.
constexpr double kMaxRateBits = 1e12;                     // 1 Tbit/s
constexpr double kMaxDurationMs = 100.0 * 365 * 86400e3;  // 100 years

Result<uint64_t> checked_rate(double bits, const std::string& text) {
  if (bits > kMaxRateBits) return Error{"rate " + text + " is above 1 Tbit/s"};
  return static_cast<uint64_t>(std::llround(bits));
}

Result<std::chrono::milliseconds> checked_duration(double ms, const std::string& text) {
  if (ms > kMaxDurationMs) return Error{"duration " + text + " is longer than 100 years"};
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(ms)));
}
}  // namespace

Result<bool> as_bool(const ConfigValue& v) {
  if (auto* b = std::get_if<bool>(&v.value)) return *b;
  return Error{"expected true or false, found " + describe(v)};
}

Result<int64_t> as_integer(const ConfigValue& v, int64_t min, int64_t max) {
  auto* i = std::get_if<int64_t>(&v.value);
  if (!i) return Error{"expected a whole number, found " + describe(v)};
  if (*i < min || *i > max) {
    return Error{"expected a whole number from " + std::to_string(min) + " to " + std::to_string(max) + ", found " +
                 std::to_string(*i)};
  }
  return *i;
}

Result<double> as_double(const ConfigValue& v, double min, double max) {
  double d;
  if (auto* f = std::get_if<double>(&v.value))
    d = *f;
  else if (auto* i = std::get_if<int64_t>(&v.value))
    d = static_cast<double>(*i);
  else
    return Error{"expected a number, found " + describe(v)};
  if (!(d >= min && d <= max)) {
    return Error{"expected a number from " + std::to_string(min) + " to " + std::to_string(max) + ", found " +
                 describe(v)};
  }
  return d;
}

Result<std::string> as_string(const ConfigValue& v) {
  if (auto* s = std::get_if<std::string>(&v.value)) return *s;
  return Error{"expected a string, found " + describe(v)};
}

Result<uint64_t> parse_rate_bits(const std::string& text) {
  double number;
  std::string unit;
  const std::string accepted =
      "expected a rate like 80kbit, 20Mbit or 1.5Gbit (bits per second), found \"" + text + "\"";
  if (!split_number_unit(text, number, unit) || number < 0) return Error{accepted};
  double scale;
  if (unit.empty() || unit == "bit" || unit == "bps")
    scale = 1;
  else if (unit == "kbit" || unit == "Kbit" || unit == "kbps")
    scale = 1e3;
  else if (unit == "Mbit" || unit == "mbit" || unit == "Mbps")
    scale = 1e6;
  else if (unit == "Gbit" || unit == "gbit" || unit == "Gbps")
    scale = 1e9;
  else
    return Error{accepted};
  return checked_rate(number * scale, text);
}

Result<std::chrono::milliseconds> parse_duration(const std::string& text) {
  double number;
  std::string unit;
  const std::string accepted = "expected a duration like 20ms, 1s, 5m, 24h or 7d, found \"" + text + "\"";
  if (!split_number_unit(text, number, unit) || number < 0) return Error{accepted};
  double ms;
  if (unit == "ms")
    ms = number;
  else if (unit == "s")
    ms = number * 1e3;
  else if (unit == "m" || unit == "min")
    ms = number * 60e3;
  else if (unit == "h")
    ms = number * 3600e3;
  else if (unit == "d")
    ms = number * 86400e3;
  else
    return Error{accepted};
  return checked_duration(ms, text);
}

Result<uint64_t> as_rate_bits(const ConfigValue& v) {
  if (auto* i = std::get_if<int64_t>(&v.value)) {
    if (*i < 0) return Error{"a rate cannot be negative"};
    return checked_rate(static_cast<double>(*i), std::to_string(*i) + " bit/s");
  }
  if (auto* s = std::get_if<std::string>(&v.value)) return parse_rate_bits(*s);
  return Error{"expected a rate like 20Mbit or a number of bits per second, found " + describe(v)};
}

Result<std::chrono::milliseconds> as_duration(const ConfigValue& v) {
  if (auto* i = std::get_if<int64_t>(&v.value)) {
    if (*i < 0) return Error{"a duration cannot be negative"};
    return checked_duration(static_cast<double>(*i), std::to_string(*i) + "ms");
  }
  if (auto* s = std::get_if<std::string>(&v.value)) return parse_duration(*s);
  return Error{"expected a duration like \"20ms\" or a number of milliseconds, found " + describe(v)};
}

Result<std::vector<uint16_t>> as_port_list(const ConfigValue& v) {
  auto* list = std::get_if<std::vector<ConfigValue>>(&v.value);
  if (!list) return Error{"expected a list of ports like [53, 22, 443, 123], found " + describe(v)};
  std::vector<uint16_t> ports;
  for (const auto& item : *list) {
    auto port = as_integer(item, 1, 65535);
    if (!port) return Error{"in the port list: " + port.message()};
    ports.push_back(static_cast<uint16_t>(*port));
  }
  return ports;
}

Result<std::vector<std::string>> as_string_list(const ConfigValue& v) {
  auto* list = std::get_if<std::vector<ConfigValue>>(&v.value);
  if (!list) return Error{"expected a list of strings, found " + describe(v)};
  std::vector<std::string> out;
  for (const auto& item : *list) {
    auto s = as_string(item);
    if (!s) return Error{"in the list: " + s.message()};
    out.push_back(*s);
  }
  return out;
}

// Exact: the largest unit the rate reaches, with as many decimals as it
// takes ("123.456789Mbit"), so the saved text parses back to the same number
// (%g's six digits turned 123,456,789 into 123,457,000).
std::string format_rate_bits(uint64_t bits) {
  struct Unit {
    uint64_t scale;
    int digits;
    const char* name;
  };
  for (const Unit& u : {Unit{1'000'000'000, 9, "Gbit"}, Unit{1'000'000, 6, "Mbit"}, Unit{1'000, 3, "kbit"}}) {
    if (bits < u.scale) continue;
    std::string fraction = std::to_string(bits % u.scale);
    fraction.insert(0, static_cast<size_t>(u.digits) - fraction.size(), '0');
    while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
    return std::to_string(bits / u.scale) + (fraction.empty() ? "" : "." + fraction) + u.name;
  }
  return std::to_string(bits) + "bit";
}

std::string format_duration(std::chrono::milliseconds d) {
  int64_t ms = d.count();
  if (ms != 0 && ms % 86'400'000 == 0) return std::to_string(ms / 86'400'000) + "d";
  if (ms != 0 && ms % 3'600'000 == 0) return std::to_string(ms / 3'600'000) + "h";
  if (ms != 0 && ms % 60'000 == 0) return std::to_string(ms / 60'000) + "m";
  if (ms != 0 && ms % 1000 == 0) return std::to_string(ms / 1000) + "s";
  return std::to_string(ms) + "ms";
}

}  // namespace bwalloc
