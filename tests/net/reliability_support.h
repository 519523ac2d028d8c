// Helpers shared by the reliability tests (tests/net/reliability_*.cpp):
// the real `bwalloc run` binary spawned per test with its own pin, state and
// database paths, its HTTP API over curl, and direct reads of its pinned
// maps and SQLite file, so a test can check the kernel and the history
// independently of the agent it is killing.
#pragma once

#include <sys/types.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/net/virtual_lan.h"

namespace bwalloc::test {

// Everything one test's agent owns: namespaces prefix, paths under /tmp,
// /run and /sys/fs/bpf. All removed by clear().
struct AgentSandbox {
  std::string prefix;  // vlan.sh prefix, e.g. "bwrlr-"
  std::string work;    // database, token, logs
  std::string pin_dir;
  std::string state_dir;

  static AgentSandbox named(const std::string& tag);  // "r" -> bwrlr-, /sys/fs/bpf/bwrlr, /run/bwrlr
  std::string db() const { return work + "/bwalloc.db"; }
  std::string token_file() const { return work + "/token"; }
  // --netns and --set options for run, status and detach.
  std::vector<std::string> options(const std::vector<std::string>& extra_sets = {}) const;
  void clear() const;  // pins, state, work directory
};

// A `bwalloc run` started by this test (by PID; never looked up by name).
class SpawnedAgent {
 public:
  SpawnedAgent(const AgentSandbox& box, const std::string& log, const std::vector<std::string>& extra_sets = {});
  // The destructor stops it: SIGTERM, waits for the exit (SIGKILL after kPatience), reaped.
  pid_t pid() const { return process_.pid(); }
  void kill9() { process_.kill9(); }           // kill -9 and reap
  bool exited() { return process_.exited(); }  // true once the process has exited (reaped here)
  int exit_code() const { return process_.exit_code(); }
  // The API port, once the agent printed it (nullopt when it exited first,
  // or after `patience`, a hang).
  std::optional<int> wait_for_port(std::chrono::milliseconds patience = kPatience);
  std::string log() const { return read_text(log_); }

 private:
  std::string log_;
  ChildProcess process_;
};

// curl's --max-time for every API call: a hang detector, not a deadline.
inline constexpr const char* kCurlMaxTime = "60";

boost::json::object get_json(int port, const std::string& path);
// POST with the API token; returns the HTTP status code (0 when curl failed).
int post_json(int port, const std::string& path, const std::string& body, const std::string& token);
// The device's entry in /api/devices (empty object when absent).
boost::json::object api_device(int port, const std::string& ip);

int64_t sql_int(const std::string& db_path, const std::string& sql);
std::vector<std::vector<int64_t>> sql_rows(const std::string& db_path, const std::string& sql);

struct PinnedCounters {
  uint64_t up_bytes = 0, down_bytes = 0, up_packets = 0, down_packets = 0, blocked_drops = 0;
};
// Sums the per-CPU entry of `ip` in <pin_dir>/bwa_counters (zeros when absent).
std::optional<PinnedCounters> pinned_counters(const std::string& pin_dir, const std::string& ip);
struct PinnedPolicy {
  uint64_t up_rate = 0, down_rate = 0;
  uint8_t priority = 0, flags = 0;
  uint32_t slot = 0;
};
std::optional<PinnedPolicy> pinned_policy(const std::string& pin_dir, const std::string& ip);
// Entries in a pinned map (nullopt when the pin is missing).
std::optional<uint32_t> pinned_map_entries(const std::string& pin, uint32_t key_size);

// Installs an nftables counter on the ingress of `ifname` in `ns` for ICMP
// echo requests of exactly `ip_length` bytes (a size only the probed device
// sends), and reads it back.
bool install_echo_probe(const std::string& ns, const std::string& ifname, int ip_length, const std::string& scratch);
std::optional<uint64_t> echo_probe_packets(const std::string& ns);

// Our programs on an interface in `ns`: "xdp", "tc ingress", "tc egress"
// entries whose program name starts with bwa_.
std::vector<std::string> our_hooks(const std::string& ns, const std::string& ifname);
// Ids of BPF links whose program is one of ours (bpftool link), anywhere.
std::vector<std::string> our_bpf_links();

}  // namespace bwalloc::test
