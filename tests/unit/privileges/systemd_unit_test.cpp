// deploy/systemd/bwalloc.service: systemd accepts it without a warning, its
// capabilities are the agent's runtime set plus what start-up needs, its
// writable paths are the agent's default paths, and its system call filter
// still lets through bpf() and everything the privilege drop uses.
#include <gtest/gtest.h>
#include <linux/capability.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent/config/config.h"
#include "agent/runtime/privileges.h"
#include "tests/support/files.h"
#include "tests/support/process.h"

namespace bwalloc {
namespace {

const std::string kUnit = std::string(BWALLOC_SOURCE_DIR) + "/deploy/systemd/bwalloc.service";

using test::read_text;

// Every value of `key` in the unit (a key may repeat), in order.
std::vector<std::string> values_of(const std::string& key) {
  std::vector<std::string> values;
  std::istringstream lines(read_text(kUnit));
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(key + "=", 0) == 0) values.push_back(line.substr(key.size() + 1));
  }
  return values;
}

std::set<std::string> words(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  std::string w;
  while (in >> w) out.insert(w);
  return out;
}

std::set<std::string> lower_words(const std::string& text) {
  std::set<std::string> out;
  for (std::string w : words(text)) {
    std::transform(w.begin(), w.end(), w.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    out.insert(w);
  }
  return out;
}

bool has_systemd_analyze() { return test::run_command({"sh", "-c", "command -v systemd-analyze"}).exit_code == 0; }

TEST(SystemdUnit, VerifiesWithoutAWarning) {
  if (!has_systemd_analyze()) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  // verify checks that ExecStart's binary exists: point it at this build's.
  const std::string dir = "/tmp/bwsk-unit-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::string unit = read_text(kUnit);
  const std::string exec = "ExecStart=/usr/local/bin/bwalloc ";
  auto at = unit.find(exec);
  ASSERT_NE(at, std::string::npos) << "ExecStart must run /usr/local/bin/bwalloc";
  unit.replace(at, exec.size(), "ExecStart=" + std::string(BWALLOC_BINARY) + " ");
  std::ofstream(dir + "/bwalloc.service") << unit;
  auto verified = test::run_command({"systemd-analyze", "verify", dir + "/bwalloc.service"});
  std::filesystem::remove_all(dir);
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_EQ(verified.output, "") << "systemd warns about the unit";
}

TEST(SystemdUnit, CapabilitiesAreTheRuntimeSetPlusStartUp) {
  ASSERT_TRUE(std::filesystem::exists(kUnit)) << kUnit;
  std::set<std::string> runtime;
  for (const auto& name : capability_list(runtime_capabilities(BackendChoice::Auto))) runtime.insert(name);
  std::set<std::string> start_up = runtime;
  start_up.insert({"cap_sys_admin", "cap_setpcap"});

  auto bounding = values_of("CapabilityBoundingSet");
  ASSERT_EQ(bounding.size(), 1u);
  EXPECT_EQ(lower_words(bounding[0]), start_up);
  auto ambient = values_of("AmbientCapabilities");
  ASSERT_EQ(ambient.size(), 1u);
  EXPECT_EQ(lower_words(ambient[0]), runtime);
  EXPECT_EQ(values_of("NoNewPrivileges"), std::vector<std::string>{"yes"});
  EXPECT_TRUE(values_of("User").empty()) << "the agent runs as root (see the unit's header)";
}

TEST(SystemdUnit, WritablePathsAreTheAgentsDefaults) {
  Config defaults;
  EXPECT_EQ(values_of("ProtectSystem"), std::vector<std::string>{"strict"});
  auto writable = values_of("ReadWritePaths");
  ASSERT_EQ(writable.size(), 1u);
  auto paths = words(writable[0]);
  EXPECT_TRUE(paths.count(std::filesystem::path(defaults.store.path).parent_path().string())) << writable[0];
  EXPECT_TRUE(paths.count(std::filesystem::path(defaults.http.token_file).parent_path().string())) << writable[0];
  EXPECT_TRUE(paths.count(defaults.datapath.state_dir)) << writable[0];
  EXPECT_TRUE(paths.count(std::filesystem::path(defaults.datapath.pin_dir).parent_path().string())) << writable[0];
  EXPECT_EQ(values_of("ProtectHome"), std::vector<std::string>{"yes"});
  EXPECT_EQ(values_of("PrivateTmp"), std::vector<std::string>{"yes"});
  EXPECT_EQ(values_of("LockPersonality"), std::vector<std::string>{"yes"});
  auto families = values_of("RestrictAddressFamilies");
  ASSERT_EQ(families.size(), 1u);
  EXPECT_EQ(words(families[0]), (std::set<std::string>{"AF_INET", "AF_INET6", "AF_NETLINK", "AF_UNIX", "AF_PACKET"}));
}

// The groups systemd knows, from `systemd-analyze syscall-filter`.
std::map<std::string, std::vector<std::string>> syscall_groups() {
  std::map<std::string, std::vector<std::string>> groups;
  auto listed = test::run_command({"systemd-analyze", "syscall-filter"});
  std::istringstream lines(listed.output);
  std::string line, current;
  while (std::getline(lines, line)) {
    if (!line.empty() && line[0] == '@') {
      current = line.substr(0, line.find_first_of(" \t"));
      continue;
    }
    std::istringstream in(line);
    std::string word;
    if (current.empty() || !(in >> word) || word[0] == '#') continue;
    groups[current].push_back(word);
  }
  return groups;
}

void expand(const std::string& item, const std::map<std::string, std::vector<std::string>>& groups,
            std::set<std::string>& out) {
  if (item[0] != '@') {
    out.insert(item);
    return;
  }
  auto it = groups.find(item);
  if (it == groups.end()) return;
  for (const auto& member : it->second) expand(member, groups, out);
}

TEST(SystemdUnit, SyscallFilterAllowsBpfAndThePrivilegeDrop) {
  if (!has_systemd_analyze()) GTEST_SKIP() << "systemd-analyze is not installed (Debian package systemd)";
  auto groups = syscall_groups();
  ASSERT_TRUE(groups.count("@system-service")) << "systemd-analyze syscall-filter lists no @system-service";
  std::set<std::string> allowed;
  for (const auto& value : values_of("SystemCallFilter")) {
    bool deny = !value.empty() && value[0] == '~';
    std::set<std::string> items;
    for (const auto& w : words(deny ? value.substr(1) : value)) expand(w, groups, items);
    if (deny) {
      for (const auto& i : items) allowed.erase(i);
    } else {
      allowed.insert(items.begin(), items.end());
    }
  }
  // bpf() itself; the drop (capget, capset, prctl) and its per-thread
  // broadcast (tgkill, rt_sigaction); the API, netlink and the prober's
  // sockets; SQLite's files and the instance lock.
  for (const char* call :
       {"bpf",    "capget",    "capset", "prctl",    "tgkill",  "rt_sigaction", "rt_sigreturn", "socket", "bind",
        "listen", "accept4",   "sendto", "recvfrom", "recvmsg", "setsockopt",   "epoll_wait",   "openat", "pwrite64",
        "fsync",  "fdatasync", "flock",  "fcntl",    "mkdir",   "unlink",       "clone3",       "execve"}) {
    EXPECT_TRUE(allowed.count(call)) << call << " is filtered out";
  }
  // And it does restrict: none of these is something the agent does.
  for (const char* call : {"mount", "init_module", "reboot", "kexec_load", "swapon", "ptrace"}) {
    EXPECT_FALSE(allowed.count(call)) << call << " is let through";
  }
}

}  // namespace
}  // namespace bwalloc
