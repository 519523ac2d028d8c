// Shaping bench: on a virtual LAN of its own, measures for bwalloc's EDT
// datapath and for the original system's HTB-per-device tc script, in the
// same run, (1) TCP goodput against the configured limit at several rates in
// both directions, (2) ping RTT to the saturating device and to an idle one,
// and (3) the router's unlimited forwarding throughput with the programs
// attached against none. It prints one JSON document (between marker lines,
// so scripts/bench.sh can pick it out of a VM's console) and progress on
// stderr. Figures are reported, never asserted.
//
// Usage: shaping_bench [--rates 1,10,100,1000] [--seconds 6] [--flows 4]
//                      [--kernel-label TEXT]
//        shaping_bench --scenario latency [--seconds 10] [--limit 5]
//                      [--pings 300] [--methods edt,htb_cake,htb_fq_codel,htb_pfifo]
//                      [--kernel-label TEXT] [--note TEXT]
//   The second form is the latency comparison of bench/latency_compare.h:
//   bwalloc's agent against HTB with cake, fq_codel and pfifo leaves.
#include <sys/utsname.h>

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <regex>
#include <sstream>
#include <thread>

#include "agent/datapath/ebpf_datapath.h"
#include "agent/runtime/netns.h"
#include "bench/bench_stats.h"
#include "bench/latency_compare.h"
#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using bench::median;
using bench::percentile;
using bench::ping_rtts_ms;
using test::BackgroundProcess;
using test::run_in;
using test::VirtualLan;

constexpr const char* kPrefix = "bwbn-";
constexpr const char* kPinDir = "/sys/fs/bpf/bwbn";
constexpr const char* kStateDir = "/tmp/bwbn-state";
constexpr int kServerPort = 5201;
constexpr int kLoadedDevice = 1;
constexpr int kIdleDevice = 2;

struct Options {
  std::vector<uint64_t> rates_mbit = {1, 10, 100, 1000};
  double seconds = 6;
  int flows = 4;
  uint64_t latency_rate_mbit = 10;
  std::string kernel_label;
  bool latency_scenario = false;
  bool seconds_given = false;
  bench::LatencyOptions latency;
};

std::vector<std::string> split(const std::string& value) {
  std::vector<std::string> items;
  std::stringstream list(value);
  for (std::string item; std::getline(list, item, ',');) items.push_back(item);
  return items;
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string key = argv[i], value = argv[i + 1];
    if (key == "--rates") {
      options.rates_mbit.clear();
      for (const auto& item : split(value)) options.rates_mbit.push_back(std::stoull(item));
    } else if (key == "--seconds") {
      options.seconds = std::stod(value);
      options.seconds_given = true;
    } else if (key == "--scenario" && (value == "latency" || value == "accuracy")) {
      options.latency_scenario = value == "latency";
    } else if (key == "--limit") {
      options.latency.limit_mbit = std::stoull(value);
    } else if (key == "--pings") {
      options.latency.pings = std::stoi(value);
    } else if (key == "--methods") {
      options.latency.methods = split(value);
    } else if (key == "--note") {
      options.latency.note = value;
    } else if (key == "--flows") {
      options.flows = std::stoi(value);
    } else if (key == "--kernel-label") {
      options.kernel_label = value;
    } else {
      std::fprintf(stderr, "unknown option %s\n", key.c_str());
      return std::nullopt;
    }
  }
  if ((argc - 1) % 2 != 0) return std::nullopt;
  options.latency.kernel_label = options.kernel_label;
  if (options.seconds_given) options.latency.seconds = options.seconds;
  return options;
}

std::string htb_script() { return std::string(BWALLOC_SOURCE_DIR) + "/bench/htb_per_device.sh"; }

// One way of limiting a device, switched on and off around its measurements.
class Limiter {
 public:
  virtual ~Limiter() = default;
  virtual std::string name() const = 0;
  virtual bool start() = 0;
  virtual bool limit(int device, uint64_t mbit) = 0;
  virtual void stop() = 0;
};

class EdtLimiter : public Limiter {
 public:
  EdtLimiter(const VirtualLan& lan, IngressAttachMode mode) : lan_(lan) {
    config_.pin_dir = kPinDir;
    config_.state_dir = kStateDir;
    config_.ingress_mode = mode;
  }
  std::string name() const override { return "bwalloc EDT"; }
  bool start() override {
    auto entered = NetnsSwitch::enter(lan_.router_ns());
    if (!entered) return fail(entered.message());
    in_router_.emplace(std::move(*entered));
    auto opened = EbpfDatapath::open(config_);
    if (!opened) return fail(opened.message());
    datapath_ = std::move(*opened);
    auto status = datapath_->status();
    pacing_ = status.pacing_active;
    std::fprintf(stderr, "edt: pacing %s %s\n", pacing_ ? "active" : "inactive", status.pacing_note.c_str());
    return true;
  }
  bool limit(int device, uint64_t mbit) override {
    auto ip = IpAddress::parse(VirtualLan::device_ipv4(device)).value();
    uint64_t bits = mbit * 1'000'000;
    auto applied = datapath_->apply_policies({DevicePolicy{ip, Priority::Normal, bits, bits, false}});
    return applied ? true : fail(applied.message());
  }
  void stop() override {
    datapath_.reset();
    if (in_router_) (void)detach_datapath(config_);
    in_router_.reset();
    std::filesystem::remove_all(kPinDir);
    std::filesystem::remove_all(kStateDir);
  }
  bool pacing_active() const { return pacing_; }

 private:
  bool fail(const std::string& message) {
    std::fprintf(stderr, "edt: %s\n", message.c_str());
    return false;
  }
  const VirtualLan& lan_;
  DatapathConfig config_;
  std::optional<NetnsSwitch> in_router_;
  std::unique_ptr<EbpfDatapath> datapath_;
  bool pacing_ = false;
};

class HtbLimiter : public Limiter {
 public:
  explicit HtbLimiter(const VirtualLan& lan) : lan_(lan) {}
  std::string name() const override { return "HTB per device (tc script)"; }
  bool start() override {
    stop();
    return run({"setup"});
  }
  bool limit(int device, uint64_t mbit) override {
    return run({"limit", VirtualLan::device_ipv4(device), std::to_string(mbit)});
  }
  void stop() override { (void)run({"clear"}); }

 private:
  bool run(std::vector<std::string> args) {
    args.insert(args.begin(), {"bash", htb_script(), lan_.router_ns()});
    auto result = test::run_command(args);
    if (result.exit_code != 0) std::fprintf(stderr, "htb: %s\n", result.output.c_str());
    return result.exit_code == 0;
  }
  const VirtualLan& lan_;
};

class Bench {
 public:
  Bench(const Options& options, const VirtualLan& lan) : options_(options), lan_(lan) {}

  // TCP goodput over several flows, in bits/s; omits the first second (slow start).
  double goodput(bool download, uint64_t limit_mbit) {
    // Low rates need longer runs for whole-second granularity to matter less.
    return iperf(download, limit_mbit <= 1 ? std::max(options_.seconds, 10.0) : options_.seconds);
  }

  double iperf(bool download, double seconds) {
    auto run = test::run_iperf3(lan_.device_ns(kLoadedDevice), VirtualLan::kInetIpv4, kServerPort, seconds, download,
                                {"-P", std::to_string(options_.flows), "-O", "1"});
    if (!run.ok) {
      // A 1 Mbit/s queue may still hold the previous run's tail: once more.
      std::fprintf(stderr, "iperf3: %s; retrying\n", run.error.c_str());
      std::this_thread::sleep_for(std::chrono::seconds(3));
      run = test::run_iperf3(lan_.device_ns(kLoadedDevice), VirtualLan::kInetIpv4, kServerPort, seconds, download,
                             {"-P", std::to_string(options_.flows), "-O", "1"});
    }
    if (!run.ok) {
      std::fprintf(stderr, "iperf3: %s\n", run.error.c_str());
      return 0;
    }
    return run.received_bits_per_second;
  }

  boost::json::array rate_accuracy(Limiter& limiter, double capacity_bps) {
    boost::json::array rows;
    if (!limiter.start()) {
      limiter.stop();
      return rows;
    }
    for (uint64_t mbit : options_.rates_mbit) {
      if (!limiter.limit(kLoadedDevice, mbit)) break;
      for (bool download : {true, false}) {
        double bps = goodput(download, mbit);
        double limit = static_cast<double>(mbit) * 1e6;
        std::fprintf(stderr, "%s %4llu Mbit/s %s: goodput %.2f Mbit/s (%.4f)\n", limiter.name().c_str(),
                     static_cast<unsigned long long>(mbit), download ? "down" : "up  ", bps / 1e6, bps / limit);
        rows.push_back({{"method", limiter.name()},
                        {"limit_mbit", mbit},
                        {"direction", download ? "download" : "upload"},
                        {"flows", options_.flows},
                        {"goodput_mbit", bps / 1e6},
                        {"ratio", bps / limit},
                        // A limit at or above what the path carries unshaped measures the path.
                        {"path_limited", limit > 0.9 * capacity_bps}});
      }
    }
    limiter.stop();
    return rows;
  }

  boost::json::object latency_under_load(Limiter& limiter) {
    boost::json::object row{{"method", limiter.name()}, {"limit_mbit", options_.latency_rate_mbit}};
    if (!limiter.start() || !limiter.limit(kLoadedDevice, options_.latency_rate_mbit)) {
      limiter.stop();
      return row;
    }
    // The loaded device downloads at its limit; meanwhile both it and an
    // idle device ping the internet side through the router.
    std::thread load([&] { iperf(true, 14); });
    std::this_thread::sleep_for(std::chrono::seconds(3));
    std::string idle_output;
    std::thread idle([&] { idle_output = ping(kIdleDevice, 150).output; });
    auto loaded = ping(kLoadedDevice, 150);
    idle.join();
    load.join();
    limiter.stop();
    auto loaded_rtts = ping_rtts_ms(loaded.output);
    auto idle_rtts = ping_rtts_ms(idle_output);
    row["loaded_p50_ms"] = percentile(loaded_rtts, 0.5);
    row["loaded_p99_ms"] = percentile(loaded_rtts, 0.99);
    row["loaded_replies"] = loaded_rtts.size();
    row["idle_p50_ms"] = percentile(idle_rtts, 0.5);
    row["idle_p99_ms"] = percentile(idle_rtts, 0.99);
    row["idle_replies"] = idle_rtts.size();
    row["pings_sent"] = 150;
    std::fprintf(stderr,
                 "%s latency at %llu Mbit/s: loaded p50 %.2f p99 %.2f ms (%zu replies), idle p50 %.2f p99 %.2f ms\n",
                 limiter.name().c_str(), static_cast<unsigned long long>(options_.latency_rate_mbit),
                 percentile(loaded_rtts, 0.5), percentile(loaded_rtts, 0.99), loaded_rtts.size(),
                 percentile(idle_rtts, 0.5), percentile(idle_rtts, 0.99));
    return row;
  }

  test::CommandResult ping(int device, int count) {
    // 50 ms apart: fine-grained enough for a p99 and far from flooding.
    return run_in(lan_.device_ns(device),
                  {"ping", "-n", "-c", std::to_string(count), "-i", "0.05", "-W", "2", VirtualLan::kInetIpv4});
  }

  double unlimited_throughput(bool download) {
    auto run = test::run_iperf3(lan_.device_ns(kLoadedDevice), VirtualLan::kInetIpv4, kServerPort, options_.seconds,
                                download, {"-O", "1"});
    return run.ok ? run.received_bits_per_second : 0;
  }

  // Router throughput with the programs attached (counting, no limit) over
  // the same without them, alternating so drift hits both alike.
  boost::json::object forwarding_overhead(EdtLimiter& edt) {
    boost::json::object result;
    for (bool download : {false, true}) {
      std::vector<double> with, without;
      for (int round = 0; round < 5; ++round) {
        without.push_back(unlimited_throughput(download));
        if (!edt.start()) return result;
        with.push_back(unlimited_throughput(download));
        edt.stop();
      }
      double ratio = median(without) > 0 ? median(with) / median(without) : 0;
      std::fprintf(stderr, "forwarding %s: without %.0f Mbit/s, with programs %.0f Mbit/s, ratio %.3f\n",
                   download ? "download" : "upload", median(without) / 1e6, median(with) / 1e6, ratio);
      result[download ? "download" : "upload"] = {
          {"without_mbit", median(without) / 1e6}, {"with_mbit", median(with) / 1e6}, {"ratio", ratio}};
    }
    return result;
  }

 private:
  const Options& options_;
  const VirtualLan& lan_;
};

std::string kernel_release() {
  utsname name{};
  uname(&name);
  return name.release;
}

int run(const Options& options) {
  if (options.latency_scenario) return bench::run_latency_compare(options.latency);
  if (auto blocker = test::namespace_test_blocker()) {
    std::fprintf(stderr, "shaping_bench: %s\n", blocker->c_str());
    return 77;
  }
  std::filesystem::remove_all(kPinDir);
  std::filesystem::remove_all(kStateDir);
  VirtualLan lan(kPrefix, 2);
  if (!lan.ok()) {
    std::fprintf(stderr, "shaping_bench: %s\n", lan.error().c_str());
    return 1;
  }
  BackgroundProcess server(lan.inet_ns(), {"iperf3", "-s", "-p", std::to_string(kServerPort)});
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Bench bench(options, lan);
  EdtLimiter edt(lan, IngressAttachMode::Auto);
  EdtLimiter edt_xdp(lan, IngressAttachMode::XdpNative);
  EdtLimiter edt_tc_only(lan, IngressAttachMode::TcOnly);
  HtbLimiter htb(lan);

  boost::json::object doc;
  doc["kernel"] = kernel_release();
  doc["kernel_label"] = options.kernel_label;
  doc["flows"] = options.flows;
  doc["seconds"] = options.seconds;
  if (edt.start()) {
    doc["pacing_active"] = edt.pacing_active();
    edt.stop();
  }
  double capacity_down = bench.unlimited_throughput(true);
  double capacity_up = bench.unlimited_throughput(false);
  doc["unshaped_capacity_mbit"] = {{"download", capacity_down / 1e6}, {"upload", capacity_up / 1e6}};
  std::fprintf(stderr, "unshaped path: download %.0f Mbit/s, upload %.0f Mbit/s\n", capacity_down / 1e6,
               capacity_up / 1e6);
  double capacity = std::min(capacity_down, capacity_up);

  boost::json::array accuracy = bench.rate_accuracy(edt, capacity);
  for (auto& row : bench.rate_accuracy(htb, capacity)) accuracy.push_back(row);
  doc["rate_accuracy"] = accuracy;
  doc["latency"] = boost::json::array{bench.latency_under_load(edt), bench.latency_under_load(htb)};
  // Upload is counted by XDP by default; on veth, XDP costs GRO, so the
  // tc-only attachment is measured too.
  doc["forwarding"] = {{"xdp", bench.forwarding_overhead(edt_xdp)},
                       {"tc_only", bench.forwarding_overhead(edt_tc_only)}};

  std::printf("BWALLOC-BENCH-JSON-BEGIN\n%s\nBWALLOC-BENCH-JSON-END\n", boost::json::serialize(doc).c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace
}  // namespace bwalloc

int main(int argc, char** argv) {
  auto options = bwalloc::parse_options(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: %s [--rates 1,10,100,1000] [--seconds 6] [--flows 4] [--kernel-label TEXT]\n"
                 "       %s --scenario latency [--seconds 10] [--limit 5] [--pings 300]\n"
                 "          [--methods edt,htb_cake,htb_fq_codel,htb_pfifo] [--kernel-label TEXT] [--note TEXT]\n",
                 argv[0], argv[0]);
    return 2;
  }
  return bwalloc::run(*options);
}
