// Formatting helpers shared by the bench reports (shaping_report).
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

namespace bwalloc::bench {

inline std::string fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

// A number member (0 when absent or not a number).
inline double num(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_number() ? 0.0 : it->value().to_number<double>();
}

// A string member ("" when absent or not a string).
inline std::string str(const boost::json::object& o, const char* key) {
  auto it = o.find(key);
  return it == o.end() || !it->value().is_string() ? "" : std::string(it->value().as_string());
}

// A member object (an empty one when absent).
inline const boost::json::object& obj(const boost::json::object& o, const char* key) {
  static const boost::json::object empty;
  auto it = o.find(key);
  return it == o.end() || !it->value().is_object() ? empty : it->value().as_object();
}

// Runs gnuplot on a script (by fork and exec, no shell); true when it succeeded.
inline bool run_gnuplot(const std::filesystem::path& script) {
  pid_t pid = fork();
  if (pid == 0) {
    execlp("gnuplot", "gnuplot", script.c_str(), nullptr);
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace bwalloc::bench
