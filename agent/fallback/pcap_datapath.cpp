// See pcap_datapath.h.
#include "agent/fallback/pcap_datapath.h"

#include <chrono>
#include <unordered_set>

#include "agent/common/log.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "pcap";
constexpr auto kLanRefresh = std::chrono::seconds(5);
constexpr auto kReopenDelay = std::chrono::seconds(1);

uint64_t now_ns() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
          .count());
}
}  // namespace

PcapDatapath::PcapDatapath(PcapApi api, PcapDatapathOptions options, LanAddressSource lan,
                           std::unique_ptr<CommandShaper> shaper, std::unique_ptr<CommandRunner> runner)
    : api_(api),
      options_(std::move(options)),
      lan_source_(std::move(lan)),
      counters_(options_.max_devices),
      enforcer_(std::move(shaper), std::move(runner), [this](const std::map<IpAddress, DevicePolicy>& wanted) {
        std::unordered_set<IpAddress> blocked;
        for (const auto& [address, policy] : wanted) {
          if (policy.priority == Priority::Blocked) blocked.insert(address);
        }
        std::lock_guard state(state_mutex_);
        counters_.set_blocked(std::move(blocked));
      }) {
  counters_.set_priority_ports(options_.priority_ports);
  counters_.set_unlimited_ports(options_.unlimited_ports);
  if (api_.lib_version) lib_version_ = api_.lib_version();
}

Result<std::unique_ptr<PcapDatapath>> PcapDatapath::open(PcapApi api, PcapDatapathOptions options, LanAddressSource lan,
                                                         std::unique_ptr<CommandShaper> shaper,
                                                         std::unique_ptr<CommandRunner> runner) {
  if (!api.create || !api.activate || !api.dispatch || !api.close || !api.geterr) {
    return Error{"the pcap library lacks a function the capture needs"};
  }
  if (!shaper || !runner) return Error{"the pcap datapath needs a shaper and a command runner"};
  std::unique_ptr<PcapDatapath> dp(
      new PcapDatapath(api, std::move(options), std::move(lan), std::move(shaper), std::move(runner)));
  auto handle = dp->open_handle();
  if (!handle) return handle.error();
  dp->handle_ = *handle;
  dp->refresh_lan();
  // Clears whatever an earlier run left, then builds the fixed tree (on
  // failure the destructor takes the half-built tree down again).
  const auto shaping = dp->enforcer_.status();
  if (auto installed = dp->enforcer_.start(); !installed) {
    return make_error("cannot set up " + shaping.shaper + " shaping on " + dp->options_.interface, installed.message());
  }
  dp->capture_thread_ = std::thread([raw = dp.get()] { raw->capture_loop(); });
  log_info(kLog, "capturing on " + dp->options_.interface + " (" + dp->lib_version_ + "), shaping with " +
                     shaping.shaper + (shaping.dry_run ? " (dry run: commands are logged, not run)" : ""));
  return dp;
}

PcapDatapath::~PcapDatapath() {
  stop_ = true;
  {
    std::lock_guard lock(handle_mutex_);
    if (handle_ && api_.breakloop) api_.breakloop(handle_);
  }
  if (capture_thread_.joinable()) capture_thread_.join();
  if (handle_) api_.close(handle_);
  enforcer_.teardown();
}

Result<PcapHandle> PcapDatapath::open_handle() const {
  const std::string& name = options_.interface;
  char errbuf[kPcapErrbufSize] = {};
  PcapHandle h = api_.create(name.c_str(), errbuf);
  if (!h) return Error{"cannot capture on " + name + ": " + errbuf};
  if (api_.set_snaplen) api_.set_snaplen(h, options_.snap_length);
  if (api_.set_promisc) api_.set_promisc(h, 0);
  if (api_.set_timeout) api_.set_timeout(h, options_.timeout_ms);
  if (api_.set_buffer_size) api_.set_buffer_size(h, options_.buffer_bytes);
  const int activated = api_.activate(h);
  if (activated < 0) {
    std::string why = api_.geterr(h);
    api_.close(h);
    return Error{"cannot capture on " + name + ": " + why + " (capturing needs root or CAP_NET_RAW)"};
  }
  if (api_.datalink && api_.datalink(h) != kPcapDltEthernet) {
    api_.close(h);
    return Error{"cannot capture on " + name + ": not an Ethernet interface"};
  }
  return h;
}

void PcapDatapath::refresh_lan() {
  auto lan = lan_source_ ? lan_source_() : Result<LanAddresses>(LanAddresses{});
  std::lock_guard lock(state_mutex_);
  if (!lan) {
    if (capture_error_.empty()) log_warn(kLog, "reading the addresses of " + options_.interface + ": " + lan.message());
    capture_error_ = lan.message();
    return;
  }
  counters_.set_lan(std::move(*lan));
}

void PcapDatapath::on_packet(unsigned char* user, const PcapPacketHeader* header, const unsigned char* bytes) {
  auto* self = reinterpret_cast<PcapDatapath*>(user);
  const ParseResult parsed = parse_frame(bytes, header->caplen, header->len);
  if (parsed.outcome == ParseOutcome::NotIp) return;
  const uint64_t now = now_ns();
  std::lock_guard lock(self->state_mutex_);
  if (parsed.outcome == ParseOutcome::Ok) {
    self->counters_.count(parsed.packet, now);
  } else {
    self->counters_.count_unparsed();
  }
}

void PcapDatapath::capture_loop() {
  auto next_refresh = std::chrono::steady_clock::now() + kLanRefresh;
  while (!stop_) {
    if (std::chrono::steady_clock::now() >= next_refresh) {
      refresh_lan();
      next_refresh = std::chrono::steady_clock::now() + kLanRefresh;
    }
    PcapHandle h = handle_;
    if (!h) {
      for (auto waited = std::chrono::milliseconds(0); waited < kReopenDelay && !stop_;
           waited += std::chrono::milliseconds(100)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (stop_) break;
      auto reopened = open_handle();
      std::lock_guard lock(handle_mutex_);
      if (reopened && !stop_) {
        handle_ = *reopened;
        log_info(kLog, "capture on " + options_.interface + " resumed");
        std::lock_guard state(state_mutex_);
        capture_error_.clear();
      } else if (reopened) {
        api_.close(*reopened);
      }
      continue;
    }
    const int n = api_.dispatch(h, -1, &PcapDatapath::on_packet, reinterpret_cast<unsigned char*>(this));
    PcapStat stat;
    const bool have_stats = api_.stats && api_.stats(h, &stat) == 0;
    if (have_stats) {
      std::lock_guard state(state_mutex_);
      handle_drops_ = static_cast<uint64_t>(stat.ps_drop) + stat.ps_ifdrop;
    }
    if (n == kPcapErrorBreak || n >= 0) continue;
    // The interface went away or down: report it and open it again.
    std::string why = api_.geterr(h);
    log_warn(kLog, "capture on " + options_.interface + " failed: " + why + "; reopening");
    std::lock_guard lock(handle_mutex_);
    api_.close(h);
    handle_ = nullptr;
    std::lock_guard state(state_mutex_);
    capture_error_ = why;
    closed_handle_drops_ += handle_drops_;
    handle_drops_ = 0;
  }
}

Result<std::vector<DeviceCounters>> PcapDatapath::read_counters() {
  std::lock_guard lock(state_mutex_);
  return counters_.snapshot(now_ns());
}

Result<void> PcapDatapath::apply_policies(const std::vector<DevicePolicy>& policies) {
  return enforcer_.apply(policies);
}

Result<void> PcapDatapath::remove_policy(const IpAddress& address) { return enforcer_.remove(address); }

Result<void> PcapDatapath::update_settings(const DatapathConfig& config) {
  return enforcer_.update_ports(config.priority_ports, config.unlimited_ports, [&] {
    std::lock_guard state(state_mutex_);
    counters_.set_priority_ports(config.priority_ports);
    counters_.set_unlimited_ports(config.unlimited_ports);
  });
}

DatapathStatus PcapDatapath::status() const {
  DatapathStatus s;
  s.backend = Backend::Pcap;
  s.programs.push_back(AttachedProgram{"pcap capture" + (lib_version_.empty() ? "" : " (" + lib_version_ + ")"),
                                       options_.interface, "pcap, snap length " + std::to_string(options_.snap_length),
                                       0});
  std::lock_guard lock(state_mutex_);
  s.maps.push_back(MapInfo{"devices", options_.max_devices, static_cast<uint32_t>(counters_.devices())});
  s.unparsed_packets = counters_.unparsed();
  s.counter_insert_failures = counters_.insert_failures();
  s.new_devices = counters_.new_devices();
  s.capture_drops = closed_handle_drops_ + handle_drops_;
  s.pacing_active = false;
  const auto shaping = enforcer_.status();
  if (!shaping.error.empty()) {
    s.pacing_note = "shaping failed (retried at the next change): " + shaping.error;
  } else {
    s.pacing_note = "fallback backend: " + shaping.shaper + " commands shape " +
                    std::to_string(shaping.shaped_devices) + " devices" +
                    (shaping.dry_run ? " (dry run: commands are only logged)" : "") + "; no EDT pacing";
  }
  if (!capture_error_.empty()) s.pacing_note += "; capture: " + capture_error_;
  return s;
}

}  // namespace bwalloc
