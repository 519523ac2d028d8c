// VirtualLan and the namespace helpers of the network tests; see virtual_lan.h.
#include "tests/net/virtual_lan.h"

#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <regex>

#ifndef BWALLOC_SOURCE_DIR
#error "BWALLOC_SOURCE_DIR must point at the source tree"
#endif

namespace bwalloc::test {

std::string vlan_script() { return std::string(BWALLOC_SOURCE_DIR) + "/scripts/vlan.sh"; }

std::optional<int> announced_api_port(const std::string& log_text) {
  static const std::regex re("API on http://127\\.0\\.0\\.1:([0-9]+)/");
  std::smatch m;
  if (std::regex_search(log_text, m, re)) return std::stoi(m[1]);
  return std::nullopt;
}

std::vector<std::string> ping_until_answered(int count, const std::string& target,
                                             const std::vector<std::string>& options) {
  std::vector<std::string> argv = {"ping"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.insert(argv.end(), {"-c", std::to_string(count), "-w", std::to_string(kPatience.count()), target});
  return argv;
}

bool wait_until_listening(const std::string& ns, const std::vector<int>& ports) {
  return wait_until(
      [&] {
        auto listening = run_in(ns, {"ss", "-ltn"});
        bool all = true;
        for (int port : ports)
          all = all && listening.output.find(":" + std::to_string(port) + " ") != std::string::npos;
        return all;
      },
      kPatience, std::chrono::milliseconds(100));
}

namespace {
bool executable_on_path(const std::string& name) {
  return run_command({"sh", "-c", "command -v " + name}).exit_code == 0;
}
}  // namespace

std::optional<std::string> namespace_test_blocker() {
  if (geteuid() != 0) return "namespace tests need root (network namespaces, BPF)";
  for (const char* tool : {"ip", "iperf3", "nft", "ping"}) {
    if (!executable_on_path(tool)) return std::string(tool) + " is not installed (scripts/install-deps.sh installs it)";
  }
  return std::nullopt;
}

CommandResult run_in(const std::string& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full);
}

namespace {
std::vector<std::string> in_namespace(const std::string& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full;
  if (!ns.empty()) full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return full;
}
}  // namespace

BackgroundProcess::BackgroundProcess(const std::string& ns, const std::vector<std::string>& argv,
                                     const std::string& output_file)
    : ChildProcess(in_namespace(ns, argv), SpawnOptions{.output_file = output_file}) {}

VirtualLan::VirtualLan(std::string prefix, int devices) : prefix_(std::move(prefix)) {
  auto up = run_command({vlan_script(), "up", "--prefix", prefix_, "--devices", std::to_string(devices)});
  ok_ = up.exit_code == 0;
  if (!ok_) error_ = "vlan.sh up failed: " + up.output;
}

VirtualLan::~VirtualLan() { (void)run_command({vlan_script(), "down", "--prefix", prefix_}); }

InterfaceBytes VirtualLan::interface_bytes(const std::string& ns, const std::string& ifname) const {
  InterfaceBytes bytes;
  auto out = run_in(ns, {"ip", "-s", "-j", "link", "show", "dev", ifname});
  if (out.exit_code != 0) return bytes;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(out.output, ec);
  if (ec || !parsed.is_array() || parsed.as_array().empty()) return bytes;
  const auto& stats = parsed.as_array()[0].as_object().at("stats64").as_object();
  bytes.rx_bytes = stats.at("rx").as_object().at("bytes").to_number<uint64_t>();
  bytes.tx_bytes = stats.at("tx").as_object().at("bytes").to_number<uint64_t>();
  bytes.rx_packets = stats.at("rx").as_object().at("packets").to_number<uint64_t>();
  bytes.tx_packets = stats.at("tx").as_object().at("packets").to_number<uint64_t>();
  return bytes;
}

IperfResult run_iperf3(const std::string& ns, const std::string& server, int port, double seconds, bool reverse,
                       const std::vector<std::string>& extra, int connect_timeout_ms) {
  std::vector<std::string> args = {"iperf3",
                                   "-c",
                                   server,
                                   "-p",
                                   std::to_string(port),
                                   "-t",
                                   std::to_string(seconds),
                                   "--json",
                                   "--connect-timeout",
                                   std::to_string(connect_timeout_ms)};
  if (reverse) args.push_back("-R");
  args.insert(args.end(), extra.begin(), extra.end());
  auto out = run_in(ns, args);
  IperfResult result;
  boost::system::error_code ec;
  auto parsed = boost::json::parse(out.output, ec);
  if (ec || !parsed.is_object()) {
    result.error = "iperf3 output is not JSON: " + out.output.substr(0, 300);
    return result;
  }
  const auto& obj = parsed.as_object();
  if (obj.contains("error")) {
    result.error = boost::json::value_to<std::string>(obj.at("error"));
    return result;
  }
  const auto& end = obj.at("end").as_object();
  const auto& sent = end.at("sum_sent").as_object();
  const auto& received = end.at("sum_received").as_object();
  result.sent_bits_per_second = sent.at("bits_per_second").to_number<double>();
  result.received_bits_per_second = received.at("bits_per_second").to_number<double>();
  result.received_bytes = received.at("bytes").to_number<uint64_t>();
  result.ok = true;
  return result;
}

}  // namespace bwalloc::test
