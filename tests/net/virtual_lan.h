// VirtualLan: the test's own virtual LAN (scripts/vlan.sh) with a unique
// prefix, removed in the destructor even when a test fails, plus helpers to
// run commands and iperf3 in its namespaces by PID (never by name).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace bwalloc::test {

// How long a test waits for something that must happen before it calls it a
// hang. Only a safety net: every wait polls for its event and returns as soon
// as it happens, so a slow or loaded machine makes a test slower, not failed.
inline constexpr std::chrono::seconds kPatience{120};

// Polls `done` every `interval` until it holds (true) or `patience` has
// passed (false; `done` is asked once more at the end).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds patience = kPatience,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

// `ping OPTIONS -c COUNT TARGET` for a ping that must get through: it waits
// for all COUNT replies (up to kPatience, `-w`) however slow the machine,
// where `-W 1` gave up on a reply after a second. Pings that must NOT get
// through keep a short `-W`: waiting longer cannot turn a failure into success.
std::vector<std::string> ping_until_answered(int count, const std::string& target,
                                             const std::vector<std::string>& options = {});

// Why this machine cannot run namespace tests, or nullopt when it can.
std::optional<std::string> namespace_test_blocker();

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs argv (no shell) and captures its output.
CommandResult run_command(const std::vector<std::string>& argv);
// Runs argv inside network namespace `ns` through `ip netns exec`.
CommandResult run_in(const std::string& ns, const std::vector<std::string>& argv);

// A background process started by PID; killed and reaped in the destructor.
class BackgroundProcess {
 public:
  // An empty `ns` runs argv in the current namespace; output goes to
  // `output_file` when given, else nowhere.
  BackgroundProcess(const std::string& ns, const std::vector<std::string>& argv, const std::string& output_file = "");
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  ~BackgroundProcess();  // SIGTERM, waits for the exit (SIGKILL after kPatience), reaped
  pid_t pid() const { return pid_; }
  // True once the process has exited (it is reaped here).
  bool exited();
  // Waits until it exits by itself (true), or `patience` passes (false).
  bool wait_exit(std::chrono::milliseconds patience = kPatience);

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

struct InterfaceBytes {
  uint64_t rx_bytes = 0;
  uint64_t tx_bytes = 0;
  uint64_t rx_packets = 0;
  uint64_t tx_packets = 0;
};

class VirtualLan {
 public:
  VirtualLan(std::string prefix, int devices);
  VirtualLan(const VirtualLan&) = delete;
  VirtualLan& operator=(const VirtualLan&) = delete;
  ~VirtualLan();

  bool ok() const { return ok_; }
  const std::string& error() const { return error_; }

  std::string device_ns(int n) const { return prefix_ + "dev" + std::to_string(n); }
  std::string router_ns() const { return prefix_ + "rtr"; }
  std::string inet_ns() const { return prefix_ + "inet"; }
  static std::string device_ipv4(int n) { return "10.10.0." + std::to_string(10 + n); }
  static std::string device_ipv6(int n) { return "fd00:10::" + std::to_string(10 + n); }
  static constexpr const char* kInetIpv4 = "198.51.100.2";
  static constexpr const char* kInetIpv6 = "fd00:51::2";

  InterfaceBytes interface_bytes(const std::string& ns, const std::string& ifname) const;

 private:
  std::string prefix_;
  bool ok_ = false;
  std::string error_;
};

// Result of one iperf3 client run (its --json output).
struct IperfResult {
  bool ok = false;
  std::string error;
  double sent_bits_per_second = 0;
  double received_bits_per_second = 0;
  uint64_t received_bytes = 0;
};

// Runs an iperf3 client in `ns` against server:port for `seconds`. The
// connect timeout is generous; a run that must fail to connect (a Blocked
// device) passes a short one.
IperfResult run_iperf3(const std::string& ns, const std::string& server, int port, double seconds, bool reverse,
                       const std::vector<std::string>& extra = {}, int connect_timeout_ms = 60'000);

// Path of scripts/vlan.sh in the source tree.
std::string vlan_script();

// A whole file as text ("" when it cannot be read).
std::string read_text(const std::string& path);

// The API port an agent announced in its log text ("API on
// http://127.0.0.1:PORT/"), or nullopt before it has.
std::optional<int> announced_api_port(const std::string& log_text);

// Waits until TCP `ports` listen in namespace `ns` (false after kPatience).
bool wait_until_listening(const std::string& ns, const std::vector<int>& ports);

}  // namespace bwalloc::test
