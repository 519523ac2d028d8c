// Windows has no argv: CreateProcess takes one command line that the child
// splits again (the Microsoft C runtime's rules, which powershell.exe
// follows too). This joins an argv so the child gets back exactly the same
// arguments. Pure and platform-free, so it is unit-tested on Linux.
#pragma once

#include <string>
#include <vector>

namespace bwalloc {

// One argument quoted per the MS C runtime rules: left alone when it has no
// space, tab, newline, vertical tab or double quote; otherwise wrapped in
// double quotes, every quote escaped with a backslash, and the backslashes
// that precede a quote (or the closing quote) doubled.
std::string quote_windows_argument(const std::string& argument);

// The arguments quoted and joined by single spaces.
std::string windows_command_line(const std::vector<std::string>& argv);

}  // namespace bwalloc
