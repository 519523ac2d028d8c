// VirtualLan and process helpers for the namespace tests.
#include "tests/net/virtual_lan.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#ifndef BWALLOC_SOURCE_DIR
#error "BWALLOC_SOURCE_DIR must point at the source tree"
#endif

namespace bwalloc::test {

std::string vlan_script() { return std::string(BWALLOC_SOURCE_DIR) + "/scripts/vlan.sh"; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::optional<int> announced_api_port(const std::string& log_text) {
  static const std::regex re("API on http://127\\.0\\.0\\.1:([0-9]+)/");
  std::smatch m;
  if (std::regex_search(log_text, m, re)) return std::stoi(m[1]);
  return std::nullopt;
}

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds patience,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(interval);
  }
  return done();
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
        for (int port : ports) all = all && listening.output.find(":" + std::to_string(port) + " ") != std::string::npos;
        return all;
      },
      kPatience, std::chrono::milliseconds(100));
}

namespace {
std::vector<char*> to_argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

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

CommandResult run_command(const std::vector<std::string>& args) {
  CommandResult result;
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) return result;
  pid_t pid = fork();
  if (pid == 0) {
    dup2(pipe_fds[1], 1);
    dup2(pipe_fds[1], 2);
    auto argv = to_argv(args);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  close(pipe_fds[1]);
  char buf[4096];
  ssize_t n;
  while ((n = read(pipe_fds[0], buf, sizeof buf)) > 0) result.output.append(buf, static_cast<size_t>(n));
  close(pipe_fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

CommandResult run_in(const std::string& ns, const std::vector<std::string>& argv) {
  std::vector<std::string> full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_command(full);
}

BackgroundProcess::BackgroundProcess(const std::string& ns, const std::vector<std::string>& args,
                                     const std::string& output_file) {
  std::vector<std::string> full;
  if (!ns.empty()) full = {"ip", "netns", "exec", ns};
  full.insert(full.end(), args.begin(), args.end());
  pid_ = fork();
  if (pid_ == 0) {
    int out = output_file.empty() ? open("/dev/null", O_RDWR)
                                  : open(output_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out, 1);
    dup2(out, 2);
    auto argv = to_argv(full);
    execvp(argv[0], argv.data());
    _exit(127);
  }
}

bool BackgroundProcess::exited() {
  if (pid_ <= 0 || reaped_) return true;
  if (waitpid(pid_, nullptr, WNOHANG) != pid_) return false;
  reaped_ = true;
  return true;
}

bool BackgroundProcess::wait_exit(std::chrono::milliseconds patience) {
  return wait_until([&] { return exited(); }, patience, std::chrono::milliseconds(10));
}

BackgroundProcess::~BackgroundProcess() {
  if (exited()) return;
  kill(pid_, SIGTERM);
  // An agent stopping cleanly (detaching, writing its last tick) may take a
  // while on a loaded machine: SIGKILL only a process that hangs.
  if (wait_exit()) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
}

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
  std::vector<std::string> args = {"iperf3", "-c", server, "-p", std::to_string(port), "-t", std::to_string(seconds),
                                   "--json", "--connect-timeout", std::to_string(connect_timeout_ms)};
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
