// stderr logger: "2026-11-24T12:00:00Z WARN datapath: message".
#include "agent/common/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace bwalloc {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_mutex;

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "DEBUG";
    case LogLevel::Info:
      return "INFO";
    case LogLevel::Warn:
      return "WARN";
    case LogLevel::Error:
      return "ERROR";
  }
  return "?";
}
}  // namespace

void set_log_level(LogLevel level) { g_level = static_cast<int>(level); }

void set_log_level(std::string_view name) {
  if (name == "debug")
    set_log_level(LogLevel::Debug);
  else if (name == "warn")
    set_log_level(LogLevel::Warn);
  else if (name == "error")
    set_log_level(LogLevel::Error);
  else
    set_log_level(LogLevel::Info);
}

void log_line(LogLevel level, std::string_view component, std::string_view message) {
  if (static_cast<int>(level) < g_level.load(std::memory_order_relaxed)) return;
  char stamp[32];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
  std::lock_guard lock(g_mutex);
  std::fprintf(stderr, "%s %s %.*s: %.*s\n", stamp, level_name(level), static_cast<int>(component.size()),
               component.data(), static_cast<int>(message.size()), message.data());
}

}  // namespace bwalloc
