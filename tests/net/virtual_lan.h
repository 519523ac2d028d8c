// VirtualLan: the test's own virtual LAN (scripts/vlan.sh) with a unique
// prefix, removed in the destructor even when a test fails, plus helpers to
// run commands and iperf3 in its namespaces by PID (never by name). The
// generic process, file and wait helpers are in tests/support/.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace bwalloc::test {

// `ping OPTIONS -c COUNT TARGET` for a ping that must get through: it waits
// for all COUNT replies (up to kPatience, `-w`) however slow the machine,
// where `-W 1` gave up on a reply after a second. Pings that must NOT get
// through keep a short `-W`: waiting longer cannot turn a failure into success.
std::vector<std::string> ping_until_answered(int count, const std::string& target,
                                             const std::vector<std::string>& options = {});

// Why this machine cannot run namespace tests, or nullopt when it can.
std::optional<std::string> namespace_test_blocker();

// Runs argv inside network namespace `ns` through `ip netns exec`.
CommandResult run_in(const std::string& ns, const std::vector<std::string>& argv);

// A background process started by PID, in network namespace `ns` (the
// current one when empty); output goes to `output_file` when given, else
// nowhere. Stopped and reaped in the destructor (ChildProcess).
class BackgroundProcess : public ChildProcess {
 public:
  BackgroundProcess(const std::string& ns, const std::vector<std::string>& argv, const std::string& output_file = "");
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

// The API port an agent announced in its log text ("API on
// http://127.0.0.1:PORT/"), or nullopt before it has.
std::optional<int> announced_api_port(const std::string& log_text);

// Waits until TCP `ports` listen in namespace `ns` (false after kPatience).
bool wait_until_listening(const std::string& ns, const std::vector<int>& ports);

}  // namespace bwalloc::test
