// Windows command-line quoting; see command_line_quote.h.
#include "agent/platform/windows/command_line_quote.h"

namespace bwalloc {

std::string quote_windows_argument(const std::string& argument) {
  if (!argument.empty() && argument.find_first_of(" \t\n\v\"") == std::string::npos) return argument;
  std::string out = "\"";
  size_t backslashes = 0;
  for (char c : argument) {
    if (c == '\\') {
      ++backslashes;
      continue;
    }
    if (c == '"') {
      // 2n+1 backslashes: n literal ones, then a literal quote.
      out.append(backslashes * 2 + 1, '\\');
    } else {
      // Backslashes not before a quote are literal.
      out.append(backslashes, '\\');
    }
    backslashes = 0;
    out += c;
  }
  // Before the closing quote they must be doubled, or it would be escaped.
  out.append(backslashes * 2, '\\');
  out += '"';
  return out;
}

std::string windows_command_line(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& argument : argv) {
    if (!line.empty()) line += ' ';
    line += quote_windows_argument(argument);
  }
  return line;
}

}  // namespace bwalloc
