// Windows command-line quoting: each argument must come back unchanged
// after the MS C runtime splits the line. The splitter below follows the
// documented rules ("Parsing C command-line arguments") so every case is
// checked as a round trip, plus exact golden lines for the usual ones.
#include "agent/platform/windows/command_line_quote.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

// The MS C runtime's argument splitting (for arguments after argv[0]).
std::vector<std::string> msvcrt_split(const std::string& line) {
  std::vector<std::string> args;
  size_t i = 0;
  while (true) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size()) break;
    std::string arg;
    bool quoted = false;
    while (i < line.size()) {
      char c = line[i];
      if (!quoted && (c == ' ' || c == '\t')) break;
      if (c == '\\') {
        size_t n = 0;
        while (i < line.size() && line[i] == '\\') ++n, ++i;
        if (i < line.size() && line[i] == '"') {
          arg.append(n / 2, '\\');
          if (n % 2) {
            arg += '"';
            ++i;
          }
        } else {
          arg.append(n, '\\');
        }
        continue;
      }
      if (c == '"') {
        if (quoted && i + 1 < line.size() && line[i + 1] == '"') {  // "" inside quotes: a literal quote
          arg += '"';
          i += 2;
          continue;
        }
        quoted = !quoted;
        ++i;
        continue;
      }
      arg += c;
      ++i;
    }
    args.push_back(arg);
  }
  return args;
}

TEST(WindowsCommandLine, PlainArgumentsStayAsTheyAre) {
  EXPECT_EQ(windows_command_line({"powershell.exe", "-NoProfile", "-Command", "New-NetQosPolicy", "-Name",
                                  "'bwalloc-10.10.0.2-down'", "-Confirm:$false"}),
            "powershell.exe -NoProfile -Command New-NetQosPolicy -Name 'bwalloc-10.10.0.2-down' -Confirm:$false");
}

TEST(WindowsCommandLine, GoldenQuoting) {
  EXPECT_EQ(quote_windows_argument(""), "\"\"");
  EXPECT_EQ(quote_windows_argument("a b"), "\"a b\"");
  EXPECT_EQ(quote_windows_argument("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(quote_windows_argument("C:\\Program Files\\"), "\"C:\\Program Files\\\\\"");
  EXPECT_EQ(quote_windows_argument("C:\\dir\\file"), "C:\\dir\\file");  // no quoting needed: backslashes literal
  EXPECT_EQ(quote_windows_argument("a\\\"b c"), "\"a\\\\\\\"b c\"");
  EXPECT_EQ(quote_windows_argument("tab\there"), "\"tab\there\"");
}

TEST(WindowsCommandLine, EveryArgumentRoundTrips) {
  const std::vector<std::string> argv = {
      "plain",      "",          "two words", "\"",           "\\",         "\\\\",
      "a\\",        "a\\\\ b",   "\\\"",      "ends with \\", "\"quoted\"", "in\"side",
      "x\\\\\"y z", "new\nline", "'single'",  "$(calc)",      "a;b",        "C:\\Program Files\\Npcap\\",
      "\t"};
  std::vector<std::string> with_program = {"prog.exe"};
  with_program.insert(with_program.end(), argv.begin(), argv.end());
  auto split = msvcrt_split(windows_command_line(with_program));
  ASSERT_FALSE(split.empty());
  split.erase(split.begin());
  EXPECT_EQ(split, argv);
}

}  // namespace
}  // namespace bwalloc
