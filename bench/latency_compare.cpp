// See latency_compare.h. The scenario, per method, on one virtual LAN:
//   1. idle RTT: dev1 pings the inet side (50 pings, 20 ms apart);
//   2. load: dev1 downloads over 4 TCP flows (iperf3 -R -P 4 -t 10 after 2
//      omitted seconds, from consecutive client ports whose packets netem in
//      inet delays by 5, 10, 20 and 40 ms, so the flows have different
//      RTTs while the shaped path through the router stays the same), a
//      64 kbit/s flow of 160-byte UDP datagrams reaches dev1, and once dev1's
//      download saturates its limit, dev1 and dev2 each send 300 pings 20 ms
//      apart;
//   3. dev1 downloads from port 443: TCP over 4 flows, then UDP offered at
//      50 Mbit/s.
// Every device is held at the same rate each way: bwalloc's agent with
// allocator.auto_mode=false and rates.normal, or bench/htb_per_device.sh
// with a class per device and the method's leaf qdisc.
#include "bench/latency_compare.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>

#include "bench/bench_stats.h"
#include "bench/report_util.h"
#include "tests/net/pinger.h"
#include "tests/net/virtual_lan.h"

#ifndef BWALLOC_BINARY
#error "BWALLOC_BINARY must name the bwalloc executable"
#endif

namespace bwalloc::bench {
namespace {

namespace json = boost::json;
using test::BackgroundProcess;
using test::run_command;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwbl-";
const std::string kWork = "/tmp/bwbl";
const std::string kPinDir = "/sys/fs/bpf/bwbl";
constexpr int kLoaded = 1;  // the device that downloads
constexpr int kOther = 2;   // the device that only pings
constexpr int kBulkPort = 5201;
constexpr int kBulkFlows = 4;
constexpr int kOmitSeconds = 2;         // of the bulk run: slow start, and the pings' head start
constexpr int kClientPortBase = 40000;  // 0x9c40: bulk stream i of a run has a port = base + i (mod 4)
constexpr int kSmallUdpPort = 5220;
constexpr int kHttpsPort = 443;
constexpr int kUdpDatagram = 1400;   // UDP 443 payload: well below the MTU
constexpr int kSmallDatagram = 160;  // 64 kbit/s of 160-byte datagrams: a G.711-like voice flow

std::string htb_script() { return std::string(BWALLOC_SOURCE_DIR) + "/bench/htb_per_device.sh"; }

// --- helpers on the virtual LAN ---------------------------------------------

// Busy and total jiffies of all CPUs (/proc/stat), to tell how loaded the
// machine (under TCG: the emulated one) was while a phase ran.
struct CpuTimes {
  uint64_t busy = 0, total = 0;
};
CpuTimes cpu_times() {
  std::istringstream in(test::read_text("/proc/stat"));
  std::string cpu;
  uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
  in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
  uint64_t busy = user + nice + system + irq + softirq + steal;
  return {busy, busy + idle + iowait};
}
double busy_percent(const CpuTimes& before, const CpuTimes& after) {
  uint64_t total = after.total - before.total;
  return total ? 100.0 * static_cast<double>(after.busy - before.busy) / static_cast<double>(total) : 0;
}

// Bits per second dev's eth0 received over `window`.
double rx_rate(const VirtualLan& lan, int device, std::chrono::milliseconds window) {
  auto before = lan.interface_bytes(lan.device_ns(device), "eth0");
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(window);
  auto after = lan.interface_bytes(lan.device_ns(device), "eth0");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return static_cast<double>(after.rx_bytes - before.rx_bytes) * 8 / seconds;
}

// Polls until `done(rate)` holds for the device's receive rate (an event,
// not a fixed wait); false after `timeout`.
bool wait_for_rx_rate(const VirtualLan& lan, int device, const std::function<bool(double)>& done,
                      std::chrono::seconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done(rx_rate(lan, device, std::chrono::milliseconds(250)))) return true;
  }
  return false;
}

// Echoes from the device to the inet side, `interval_s` apart, by the
// bench's own pinger (iputils ping spins before each echo and drifts after
// late wake-ups, both of which distort a TCG run: tests/net/pinger.h).
test::PingRun ping(const VirtualLan& lan, int device, int count, double interval_s) {
  auto run = test::ping_from(lan.device_ns(device), VirtualLan::kInetIpv4, count, interval_s, 5.0);
  if (!run.ok) std::fprintf(stderr, "  ping from dev%d: %s\n", device, run.error.c_str());
  return run;
}

json::object ping_figures(const test::PingRun& run) {
  double loss = run.sent > 0 ? 100.0 * run.lost() / run.sent : 100.0;
  return {{"p50_ms", percentile(run.rtts_ms, 0.5)},
          {"p99_ms", percentile(run.rtts_ms, 0.99)},
          {"max_ms", percentile(run.rtts_ms, 1.0)},
          {"sent", run.sent},
          {"received", run.received},
          {"loss_percent", loss}};
}

// One iperf3 client run in dev1 (its --json document), or the reason none.
struct Iperf {
  std::optional<json::object> doc;
  std::string error;
};

Iperf iperf3(const VirtualLan& lan, int port, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {"iperf3", "-c",     VirtualLan::kInetIpv4, "-p",   std::to_string(port),
                                   "-R",     "--json", "--connect-timeout",   "10000"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto out = run_in(lan.device_ns(kLoaded), args);
  boost::system::error_code ec;
  auto parsed = json::parse(out.output, ec);
  if (ec || !parsed.is_object()) return {std::nullopt, "iperf3 printed no JSON: " + out.output.substr(0, 200)};
  auto& obj = parsed.as_object();
  if (obj.contains("error")) return {std::nullopt, json::value_to<std::string>(obj.at("error"))};
  if (!obj.contains("end") || !obj.at("end").as_object().contains("sum_received")) {
    return {std::nullopt, "iperf3 JSON without end.sum_received"};
  }
  return {std::move(obj), ""};
}

const json::object& end_of(const json::object& doc, const char* sum) {
  return doc.at("end").as_object().at(sum).as_object();
}

// --- the methods ------------------------------------------------------------

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string key() const = 0;
  virtual std::string name() const = 0;
  // Holds every device at `mbit` each way; false with `error` set when the
  // method cannot run here (e.g. a qdisc this kernel lacks).
  virtual bool start(uint64_t mbit, std::string& error) = 0;
  virtual void stop() = 0;
  virtual json::object details() const { return {}; }
};

// The real agent, its pid ours; it dies with the bench (PR_SET_PDEATHSIG),
// so a killed bench leaves no agent behind.
class AgentProcess {
 public:
  AgentProcess(const std::vector<std::string>& args, const std::string& log) {
    pid_t parent = getpid();
    pid_ = fork();
    if (pid_ == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != parent) _exit(1);
      int out = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(out, 1);
      dup2(out, 2);
      std::vector<char*> argv;
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;
  ~AgentProcess() {
    if (pid_ <= 0 || reaped_) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 250; ++i) {
      if (exited()) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool exited() {
    if (reaped_) return true;
    reaped_ = waitpid(pid_, nullptr, WNOHANG) == pid_;
    return reaped_;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
};

class EdtAgentMethod : public Method {
 public:
  explicit EdtAgentMethod(const VirtualLan& lan) : lan_(lan) {}
  std::string key() const override { return "edt"; }
  std::string name() const override { return "bwalloc EDT (agent)"; }

  bool start(uint64_t mbit, std::string& error) override {
    clear_files();
    std::filesystem::create_directories(kWork);
    std::vector<std::string> args = {BWALLOC_BINARY, "run"};
    for (const auto& s : settings()) args.push_back(s);
    for (const char* set : {"allocator.auto_mode=false", "discovery.reverse_dns=false", "http.port=0"}) {
      args.insert(args.end(), {"--set", set});
    }
    args.insert(args.end(), {"--set", "rates.normal=\"" + std::to_string(mbit) + "Mbit\""});
    log_ = kWork + "/agent.log";
    agent_ = std::make_unique<AgentProcess>(args, log_);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(90);
    while (!(port_ = test::announced_api_port(test::read_text(log_)))) {
      if (agent_->exited() || std::chrono::steady_clock::now() > deadline) {
        error = "the agent did not start: " + test::read_text(log_).substr(0, 600);
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    // Devices appear once they send; the agent then pushes rates.normal.
    const std::string want = " " + std::to_string(mbit * 1'000'000);
    while (std::chrono::steady_clock::now() < deadline) {
      for (int device : {kLoaded, kOther}) {
        run_in(lan_.device_ns(device), {"ping", "-n", "-c", "1", "-W", "1", VirtualLan::kInetIpv4});
      }
      std::string metrics = http_get("/metrics");
      bool all = true;
      for (int device : {kLoaded, kOther}) {
        std::string line = "bwalloc_device_limit_bits_per_second{ip=\"" + VirtualLan::device_ipv4(device) + "\"}";
        auto at = metrics.find(line);
        all = all && at != std::string::npos && metrics.compare(at + line.size(), want.size(), want) == 0;
      }
      if (all) {
        pacing_ = metrics.find("\nbwalloc_datapath_pacing_active 1") != std::string::npos;
        config_ = http_get("/api/config");
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    error = "the agent never held both devices at " + std::to_string(mbit) + " Mbit/s";
    return false;
  }

  void stop() override {
    agent_.reset();
    std::vector<std::string> detach = {BWALLOC_BINARY, "detach"};
    for (const auto& s : settings()) detach.push_back(s);
    (void)run_command(detach);
    clear_files();
  }

  json::object details() const override {
    json::object d{{"pacing_active", pacing_}};
    boost::system::error_code ec;
    auto parsed = json::parse(config_, ec);
    if (!ec && parsed.is_object() && parsed.as_object().contains("config")) {
      for (const auto& entry : parsed.at("config").as_array()) {
        const auto& e = entry.as_object();
        std::string key(e.at("key").as_string());
        if (key.rfind("datapath.", 0) == 0 &&
            (key.find("priority_") != std::string::npos || key.find("unlimited_") != std::string::npos)) {
          d[key] = e.at("value");
        }
        if (key == "datapath.horizon") d[key] = e.at("value");
      }
    }
    return d;
  }
  bool pacing_active() const { return pacing_; }

 private:
  std::vector<std::string> settings() const {
    return {"--netns", lan_.router_ns(),
            "--set",   "datapath.pin_dir=\"" + kPinDir + "\"",
            "--set",   "datapath.state_dir=\"" + kWork + "/state\"",
            "--set",   "store.path=\"" + kWork + "/bwalloc.db\"",
            "--set",   "http.token_file=\"" + kWork + "/token\""};
  }
  std::string http_get(const std::string& path) const {
    if (!port_) return "";
    return run_command({"curl", "-s", "--max-time", "10", "http://127.0.0.1:" + std::to_string(*port_) + path}).output;
  }
  static void clear_files() {
    std::error_code ignored;
    std::filesystem::remove_all(kPinDir, ignored);
    std::filesystem::remove_all(kWork, ignored);
  }

  const VirtualLan& lan_;
  std::unique_ptr<AgentProcess> agent_;
  std::string log_;
  std::optional<int> port_;
  bool pacing_ = false;
  std::string config_;
};

class HtbMethod : public Method {
 public:
  HtbMethod(const VirtualLan& lan, std::string key, std::string name, std::vector<std::string> leaf)
      : lan_(lan), key_(std::move(key)), name_(std::move(name)), leaf_(std::move(leaf)) {}
  std::string key() const override { return key_; }
  std::string name() const override { return name_; }

  bool start(uint64_t mbit, std::string& error) override {
    stop();
    auto setup = script({"setup"});
    if (setup.exit_code != 0) {
      error = "htb setup: " + setup.output;
      return false;
    }
    for (int device : {kLoaded, kOther}) {
      std::vector<std::string> args = {"limit", VirtualLan::device_ipv4(device), std::to_string(mbit)};
      args.insert(args.end(), leaf_.begin(), leaf_.end());
      auto limited = script(args);
      if (limited.exit_code != 0) {
        error = "htb limit: " + limited.output;
        return false;
      }
    }
    qdiscs_ = run_in(lan_.router_ns(), {"tc", "qdisc", "show", "dev", "lan0"}).output;
    return true;
  }
  void stop() override { (void)script({"clear"}); }
  json::object details() const override {
    std::string leaf;
    for (const auto& a : leaf_) leaf += (leaf.empty() ? "" : " ") + a;
    return {{"leaf", leaf.empty() ? "HTB's default (pfifo, limit = txqueuelen)" : leaf}, {"lan0_qdiscs", qdiscs_}};
  }

 private:
  test::CommandResult script(std::vector<std::string> args) const {
    args.insert(args.begin(), {"bash", htb_script(), lan_.router_ns()});
    return run_command(args);
  }
  const VirtualLan& lan_;
  std::string key_, name_;
  std::vector<std::string> leaf_;
  std::string qdiscs_;
};

// --- the inet side: servers and per-flow delays -----------------------------

// netem on inet's egress delays what the bulk server sends to client port
// kClientPortBase + 4k + i by delays[i] (a prio qdisc whose unmatched
// traffic goes undelayed). False, with nothing left behind, when this
// kernel has no netem.
bool install_flow_delays(const VirtualLan& lan, const std::vector<int>& delays_ms, std::string& error) {
  auto tc = [&](std::vector<std::string> args) {
    args.insert(args.begin(), "tc");
    return run_in(lan.inet_ns(), args);
  };
  tc({"qdisc", "del", "dev", "eth0", "root"});
  std::vector<std::string> prio = {"qdisc",  "add", "dev",  "eth0",  "root",
                                   "handle", "1:",  "prio", "bands", std::to_string(delays_ms.size() + 1),
                                   "priomap"};
  for (int i = 0; i < 16; ++i) prio.push_back("0");
  auto made = tc(prio);
  for (size_t i = 0; made.exit_code == 0 && i < delays_ms.size(); ++i) {
    std::string band = "1:" + std::to_string(i + 2);
    made = tc({"qdisc", "add", "dev", "eth0", "parent", band, "handle", std::to_string(i + 10) + ":", "netem", "delay",
               std::to_string(delays_ms[i]) + "ms", "limit", "100000"});
    if (made.exit_code != 0) break;
    // Ports 40000..40063 share their top 10 bits; the low 2 bits are i.
    made = tc({"filter", "add",      "dev", "eth0",     "parent",
               "1:",     "protocol", "ip",  "prio",     "1",
               "u32",    "match",    "ip",  "protocol", "6",
               "0xff",   "match",    "ip",  "sport",    std::to_string(kBulkPort),
               "0xffff", "match",    "ip",  "dport",    std::to_string(kClientPortBase + static_cast<int>(i)),
               "0xffc3", "flowid",   band});
  }
  if (made.exit_code != 0) {
    error = made.output;
    tc({"qdisc", "del", "dev", "eth0", "root"});
    return false;
  }
  return true;
}

// --- the scenario -----------------------------------------------------------

class Scenario {
 public:
  Scenario(const LatencyOptions& options, const VirtualLan& lan, std::vector<int> delays)
      : options_(options), lan_(lan), delays_(std::move(delays)) {}

  double limit_bps() const { return static_cast<double>(options_.limit_mbit) * 1e6; }

  // Back to an idle link between phases (a pfifo may hold seconds of queue).
  void wait_until_quiet() {
    wait_for_rx_rate(
        lan_, kLoaded, [&](double bps) { return bps < 0.05 * limit_bps(); }, std::chrono::seconds(20));
  }

  // An iperf3 run, once more after the queue drained if the first failed
  // (a server may still be finishing the previous test).
  Iperf iperf_twice(int port, const std::vector<std::string>& extra) {
    auto run = iperf3(lan_, port, extra);
    if (!run.doc) {
      std::fprintf(stderr, "  iperf3 on port %d: %s; once more\n", port, run.error.c_str());
      wait_until_quiet();
      run = iperf3(lan_, port, extra);
    }
    return run;
  }

  json::object measure(Method& method) {
    json::object row{{"key", method.key()}, {"method", method.name()}};
    auto started = std::chrono::steady_clock::now();
    std::string error;
    std::fprintf(stderr, "== %s\n", method.name().c_str());
    if (!method.start(options_.limit_mbit, error)) {
      std::fprintf(stderr, "  not available here: %s\n", error.c_str());
      row["available"] = false;
      row["error"] = error;
      method.stop();
      return row;
    }
    row["available"] = true;
    row["details"] = method.details();

    auto idle = ping(lan_, kLoaded, options_.idle_pings, options_.ping_interval_s);
    row["idle_ping"] = ping_figures(idle);
    std::fprintf(stderr, "  idle RTT p50 %.2f ms\n", percentile(idle.rtts_ms, 0.5));

    // The pings must all see a saturating device: where the download ended
    // before the last echo left (a slow start-up under TCG), it runs once
    // more for twice as long.
    double bulk_seconds = options_.seconds;
    for (int attempt = 0; attempt < 2; ++attempt) {
      auto outcome = load_phase(row, bulk_seconds);
      if (outcome.load_outlasted_pings) break;
      if (attempt == 0) {
        bulk_seconds = std::max(2 * bulk_seconds, std::ceil(outcome.ping_seconds * 1.5));
        std::fprintf(stderr, "  once more with a %.0f s download\n", bulk_seconds);
        wait_until_quiet();
      }
    }
    wait_until_quiet();
    https_phase(row);
    method.stop();
    row["elapsed_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "  (%.0f s)\n", row["elapsed_s"].as_double());
    return row;
  }

 private:
  std::vector<std::string> timed(double extra_seconds = 0) const {
    return {"-t", fixed(options_.seconds + extra_seconds, 1)};
  }

  struct LoadOutcome {
    double ping_seconds = 0;
    bool load_outlasted_pings = false;
  };
  LoadOutcome load_phase(json::object& row, double bulk_seconds) {
    // One iperf3 with 4 streams from consecutive client ports (--cport), so
    // all streams share one measurement window; inet's netem tells them
    // apart by port. A fresh base per run keeps clear of the last run's
    // TIME_WAIT and conntrack entries.
    const int cport = kClientPortBase + 4 * (run_++ % 16);
    Iperf bulk;
    std::chrono::steady_clock::time_point bulk_end;
    std::thread bulk_thread([&] {
      std::vector<std::string> args = {"-t", fixed(bulk_seconds, 0)};
      args.insert(args.end(), {"-P", std::to_string(kBulkFlows), "-O", std::to_string(kOmitSeconds), "--cport",
                               std::to_string(cport)});
      bulk = iperf3(lan_, kBulkPort, args);
      bulk_end = std::chrono::steady_clock::now();
    });
    Iperf small;
    int small_attempts = 0;
    std::thread small_thread([&] {
      // As long as the bulk run with its omitted seconds. Its UDP handshake
      // can be lost where the device's packets are dropped (iperf3 then
      // gives up at once): once more for the rest of the download.
      const auto end =
          std::chrono::steady_clock::now() + std::chrono::seconds(kOmitSeconds) +
          std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(bulk_seconds));
      for (double left = bulk_seconds + kOmitSeconds; left >= 4 && small_attempts < 2;
           left = std::chrono::duration<double>(end - std::chrono::steady_clock::now()).count()) {
        ++small_attempts;
        small = iperf3(lan_, kSmallUdpPort,
                       {"-t", fixed(std::floor(left), 0), "-u", "-b", "64k", "-l", std::to_string(kSmallDatagram)});
        if (small.doc) break;
      }
    });
    // The pings start once the download saturates the limit, or 4 s in at
    // the latest, so that they (6 s) end before it does (12 s).
    bool saturated = wait_for_rx_rate(
        lan_, kLoaded, [&](double bps) { return bps > 0.8 * limit_bps(); }, std::chrono::seconds(kOmitSeconds + 2));
    test::PingRun same, other;
    auto pings_start = std::chrono::steady_clock::now();
    auto cpu_before = cpu_times();
    std::thread other_ping([&] { other = ping(lan_, kOther, options_.pings, options_.ping_interval_s); });
    same = ping(lan_, kLoaded, options_.pings, options_.ping_interval_s);
    other_ping.join();
    const double cpu_busy = busy_percent(cpu_before, cpu_times());
    // The download must still run when the last echo leaves.
    const double ping_seconds = std::max(same.send_seconds, other.send_seconds);
    const auto last_echo = pings_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                             std::chrono::duration<double>(ping_seconds));
    bulk_thread.join();
    const bool load_outlasted_pings = bulk_end > last_echo;
    std::fprintf(stderr, "  %d pings took %.1f s (%.1f s nominal); CPUs %.0f %% busy meanwhile%s\n", options_.pings,
                 ping_seconds, options_.pings * options_.ping_interval_s, cpu_busy,
                 load_outlasted_pings ? "" : "; the download ended before the pings did");
    small_thread.join();

    json::object load{{"seconds", bulk_seconds},
                      {"saturated_before_pings", saturated},
                      {"load_outlasted_pings", load_outlasted_pings},
                      {"ping_seconds", ping_seconds},
                      {"cpu_busy_percent_while_pinging", cpu_busy}};
    json::array per_flow;
    std::vector<double> shares;
    double goodput = 0, retransmits = 0;
    if (bulk.doc) {
      // Stream -> client port -> the delay netem gives it.
      std::map<int64_t, int64_t> port_of_socket;
      for (const auto& c : bulk.doc->at("start").at("connected").as_array()) {
        port_of_socket[c.at("socket").to_number<int64_t>()] = c.at("local_port").to_number<int64_t>();
      }
      for (const auto& v : bulk.doc->at("end").at("streams").as_array()) {
        const auto& receiver = v.at("receiver").as_object();
        const auto& sender = v.at("sender").as_object();
        int64_t port = port_of_socket[receiver.at("socket").to_number<int64_t>()];
        size_t index = static_cast<size_t>(port - cport);
        double bps = num(receiver, "bits_per_second");
        per_flow.push_back({{"client_port", port},
                            {"extra_delay_ms", index < delays_.size() ? delays_[index] : 0},
                            {"goodput_mbit", bps / 1e6},
                            {"retransmits", num(sender, "retransmits")}});
        shares.push_back(bps);
      }
      goodput = num(end_of(*bulk.doc, "sum_received"), "bits_per_second");
      retransmits = num(end_of(*bulk.doc, "sum_sent"), "retransmits");
    } else {
      load["error"] = bulk.error;
      std::fprintf(stderr, "  bulk: %s\n", bulk.error.c_str());
    }
    load["flows"] = per_flow;
    load["goodput_mbit"] = goodput / 1e6;
    load["goodput_per_tcp_carry"] = goodput / (limit_bps() * kTcpPayloadPerFrame);
    load["retransmits"] = retransmits;
    load["jain_index"] = jain_index(shares);
    row["bulk"] = load;
    row["same_device_ping"] = ping_figures(same);
    row["other_device_ping"] = ping_figures(other);
    if (small.doc) {
      const auto& r = end_of(*small.doc, "sum_received");
      double packets = num(r, "packets");
      row["small_udp"] = {{"attempts", small_attempts},
                          {"packets", packets},
                          {"lost_packets", num(r, "lost_packets")},
                          {"loss_percent", packets > 0 ? 100.0 * num(r, "lost_packets") / packets : 100.0},
                          {"jitter_ms", num(r, "jitter_ms")}};
    } else {
      row["small_udp"] = {{"error", small.error}, {"attempts", small_attempts}};
    }
    auto pf = [](const json::value& v, const char* k) { return num(v.as_object(), k); };
    std::fprintf(stderr,
                 "  bulk %.3f Mbit/s (%.3f of what TCP carries), %.0f retransmits, Jain %.3f\n"
                 "  same-device ping p50 %.2f p99 %.2f ms, loss %.1f %%; other device p50 %.2f p99 %.2f ms\n"
                 "  small UDP loss %.2f %%, jitter %.2f ms\n",
                 goodput / 1e6, pf(row["bulk"], "goodput_per_tcp_carry"), retransmits, pf(row["bulk"], "jain_index"),
                 pf(row["same_device_ping"], "p50_ms"), pf(row["same_device_ping"], "p99_ms"),
                 pf(row["same_device_ping"], "loss_percent"), pf(row["other_device_ping"], "p50_ms"),
                 pf(row["other_device_ping"], "p99_ms"),
                 row["small_udp"].as_object().contains("error") ? -1.0 : pf(row["small_udp"], "loss_percent"),
                 row["small_udp"].as_object().contains("error") ? -1.0 : pf(row["small_udp"], "jitter_ms"));
    return {ping_seconds, load_outlasted_pings};
  }

  void https_phase(json::object& row) {
    auto args = timed();
    args.insert(args.end(), {"-P", "4", "-O", "1"});
    auto tcp = iperf_twice(kHttpsPort, args);
    if (tcp.doc) {
      double bps = num(end_of(*tcp.doc, "sum_received"), "bits_per_second");
      row["tcp443"] = {{"goodput_mbit", bps / 1e6},
                       {"per_limit", bps / limit_bps()},
                       {"retransmits", num(end_of(*tcp.doc, "sum_sent"), "retransmits")}};
      std::fprintf(stderr, "  TCP 443: %.3f Mbit/s (%.3f x the limit)\n", bps / 1e6, bps / limit_bps());
    } else {
      row["tcp443"] = {{"error", tcp.error}};
    }
    wait_until_quiet();
    args = timed();
    args.insert(args.end(),
                {"-u", "-b", fixed(options_.udp443_offered_mbit, 0) + "M", "-l", std::to_string(kUdpDatagram)});
    auto udp = iperf_twice(kHttpsPort, args);
    if (udp.doc) {
      const auto& r = end_of(*udp.doc, "sum_received");
      double seconds = num(r, "seconds");
      double bps = seconds > 0 ? num(r, "bytes") * 8 / seconds : 0;
      double packets = num(r, "packets");
      row["udp443"] = {{"goodput_mbit", bps / 1e6},
                       {"per_limit", bps / limit_bps()},
                       {"offered_mbit", options_.udp443_offered_mbit},
                       {"loss_percent", packets > 0 ? 100.0 * num(r, "lost_packets") / packets : 100.0}};
      std::fprintf(stderr, "  UDP 443 (%.0f Mbit/s offered): %.3f Mbit/s (%.3f x the limit)\n",
                   options_.udp443_offered_mbit, bps / 1e6, bps / limit_bps());
    } else {
      row["udp443"] = {{"error", udp.error}};
    }
    wait_until_quiet();
  }

  const LatencyOptions& options_;
  const VirtualLan& lan_;
  std::vector<int> delays_;  // empty when netem is missing: the flows then share one RTT
  int run_ = 0;
};

std::string kernel_release() {
  utsname name{};
  uname(&name);
  return name.release;
}

}  // namespace

int run_latency_compare(const LatencyOptions& options) {
  if (auto blocker = test::namespace_test_blocker()) {
    std::fprintf(stderr, "shaping_bench: %s\n", blocker->c_str());
    return 77;
  }
  if (run_command({"sh", "-c", "command -v curl"}).exit_code != 0) {
    std::fprintf(stderr, "shaping_bench: curl is not installed\n");
    return 77;
  }
  auto started = std::chrono::steady_clock::now();
  // Leftovers of a killed run: its namespaces go with vlan.sh up, its pins here.
  std::error_code ignored;
  std::filesystem::remove_all(kPinDir, ignored);
  std::filesystem::remove_all(kWork, ignored);
  VirtualLan lan(kPrefix, 2);
  if (!lan.ok()) {
    std::fprintf(stderr, "shaping_bench: %s\n", lan.error().c_str());
    return 1;
  }
  std::vector<std::unique_ptr<BackgroundProcess>> servers;
  std::vector<int> ports = {kBulkPort, kSmallUdpPort, kHttpsPort};
  for (int port : ports) {
    servers.push_back(std::make_unique<BackgroundProcess>(
        lan.inet_ns(), std::vector<std::string>{"iperf3", "-s", "-p", std::to_string(port)}));
  }
  if (!test::wait_until_listening(lan.inet_ns(), ports)) {
    std::fprintf(stderr, "shaping_bench: the iperf3 servers did not start\n");
    return 1;
  }
  std::string netem_error;
  std::vector<int> delays = options.flow_delays_ms;
  delays.resize(kBulkFlows, delays.empty() ? 0 : delays.back());
  if (!install_flow_delays(lan, delays, netem_error)) {
    std::fprintf(stderr, "no netem here (%s): the bulk flows share one RTT\n", netem_error.c_str());
    delays.clear();
  }

  std::vector<std::unique_ptr<Method>> methods;
  for (const auto& key : options.methods) {
    if (key == "edt") {
      methods.push_back(std::make_unique<EdtAgentMethod>(lan));
    } else if (key == "htb_cake") {
      methods.push_back(std::make_unique<HtbMethod>(lan, key, "HTB + cake (besteffort)",
                                                    std::vector<std::string>{"cake", "besteffort"}));
    } else if (key == "htb_fq_codel") {
      methods.push_back(std::make_unique<HtbMethod>(lan, key, "HTB + fq_codel", std::vector<std::string>{"fq_codel"}));
    } else if (key == "htb_pfifo") {
      methods.push_back(std::make_unique<HtbMethod>(lan, key, "HTB + pfifo (original)", std::vector<std::string>{}));
    } else {
      std::fprintf(stderr, "shaping_bench: unknown method %s (edt, htb_cake, htb_fq_codel, htb_pfifo)\n", key.c_str());
      return 2;
    }
  }

  Scenario scenario(options, lan, delays);
  json::array rows;
  for (auto& method : methods) rows.push_back(scenario.measure(*method));

  const double limit = static_cast<double>(options.limit_mbit);
  json::object doc{{"scenario", "latency"},
                   {"kernel", kernel_release()},
                   {"kernel_label", options.kernel_label},
                   {"note", options.note},
                   {"limit_mbit", options.limit_mbit},
                   {"seconds", options.seconds},
                   {"omit_seconds", kOmitSeconds},
                   {"pings", options.pings},
                   {"ping_interval_ms", options.ping_interval_s * 1000},
                   {"udp443_offered_mbit", options.udp443_offered_mbit},
                   {"udp443_datagram_bytes", kUdpDatagram},
                   {"tcp_carry_mbit", limit * kTcpPayloadPerFrame},
                   {"udp443_carry_mbit", limit * udp_payload_per_frame(kUdpDatagram)},
                   {"flow_extra_delays_ms", json::value_from(delays)},
                   {"elapsed_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count()},
                   {"methods", rows}};
  std::fprintf(stderr,
               "what TCP can carry at %.0f Mbit/s on the wire (1448 payload bytes per 1514-byte frame): %.3f Mbit/s;"
               " UDP with %d-byte datagrams: %.3f Mbit/s\n",
               limit, limit * kTcpPayloadPerFrame, kUdpDatagram, limit * udp_payload_per_frame(kUdpDatagram));
  std::printf("BWALLOC-BENCH-JSON-BEGIN\n%s\nBWALLOC-BENCH-JSON-END\n", json::serialize(doc).c_str());
  std::fflush(stdout);
  servers.clear();
  return 0;
}

}  // namespace bwalloc::bench
