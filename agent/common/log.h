// Minimal structured logging to stderr (journald picks it up under systemd).
// Thread-safe; one line per call.
#pragma once

#include <string_view>

namespace bwalloc {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3 };

void set_log_level(LogLevel level);
// "debug", "warn", "error"; anything else (the config only allows "info") is Info.
void set_log_level(std::string_view name);
void log_line(LogLevel level, std::string_view component, std::string_view message);

inline void log_info(std::string_view component, std::string_view message) {
  log_line(LogLevel::Info, component, message);
}
inline void log_warn(std::string_view component, std::string_view message) {
  log_line(LogLevel::Warn, component, message);
}
inline void log_error(std::string_view component, std::string_view message) {
  log_line(LogLevel::Error, component, message);
}
inline void log_debug(std::string_view component, std::string_view message) {
  log_line(LogLevel::Debug, component, message);
}

}  // namespace bwalloc
