// The tick pipeline: counters -> samples -> allocator -> policies -> one
// store write -> snapshot; and what every step shares (device rows,
// policies, writes, publishing).
#include <algorithm>

#include "agent/common/device_address.h"
#include "agent/common/log.h"
#include "agent/core/policy_rates.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/counter_baseline_file.h"
#include "agent/runtime/snapshot_builder.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "agent";
constexpr int kMaintainEveryTicks = 60;
}  // namespace

DeviceState& Agent::device_owned(const IpAddress& ip) {
  auto [it, created] = devices_.try_emplace(ip);
  if (created) {
    it->second.first_seen_ms = now_ms();
    it->second.last_seen_ms = 0;
    it->second.dirty = true;
  }
  return it->second;
}

Result<void> Agent::check_device_owned(const IpAddress& ip) const {
  return check_device_address(ip, router_addresses_);
}

void Agent::apply_policies_owned(bool all) {
  if (config_.dry_run) return;
  std::vector<DevicePolicy> policies;
  std::vector<IpAddress> touched;
  for (auto& [ip, d] : devices_) {
    if (!all && d.policy_applied) continue;
    policies.push_back(policy_for(ip, d.alloc.priority, config_.rates));
    touched.push_back(ip);
  }
  if (policies.empty()) return;
  auto applied = datapath_.apply_policies(policies);
  if (!applied) {
    datapath_error_ = applied.message();
    log_error(kLog, "write policies: " + applied.message());
    return;
  }
  datapath_error_.clear();
  for (const auto& ip : touched) devices_[ip].policy_applied = true;
}

void Agent::tick_owned() {
  ++ticks_;
  // Addresses come and go (DHCP, SLAAC): read them where the tick runs, in
  // the datapath's namespace.
  if (read_router_addresses_) router_addresses_ = read_router_addresses_();
  const int64_t now = now_ms();
  TickRecord record;
  record.ts_ms = now;

  auto counters = datapath_.read_counters();
  if (!counters) {
    datapath_error_ = counters.message();
    log_error(kLog, "read counters: " + counters.message());
  } else {
    // The kernel counts every address it sees; multicast, broadcast and
    // link-local entries are not devices of their own.
    std::erase_if(*counters,
                  [&](const DeviceCounters& c) { return !check_device_address(c.address, router_addresses_); });
    auto samples = sampler_.update(*counters, clock_.mono_now());
    for (const auto& c : *counters) {
      DeviceState& d = device_owned(c.address);
      d.up_total = c.up_bytes;
      d.down_total = c.down_bytes;
      d.blocked_drops = c.blocked_drops;
      d.horizon_drops = c.horizon_drops;
      // The kernel saw a packet this recently: that is when it was last seen.
      int64_t seen = now - static_cast<int64_t>(c.last_seen_age_ns / 1'000'000);
      // A last-seen time ahead of now was taken while the wall clock ran
      // ahead (it has been stepped back since): the new sighting replaces it.
      if (seen > d.last_seen_ms + 500 || d.last_seen_ms > now) {
        d.last_seen_ms = seen;
        if (ticks_ % 10 == 0) d.dirty = true;  // last_seen is kept to within 10 ticks
      }
    }
    uint64_t tick_bytes = 0;
    for (const auto& s : samples) {
      DeviceState& d = device_owned(s.ip);
      d.up_rate = s.up_bits_per_sec;
      d.down_rate = s.down_bits_per_sec;
      tick_bytes += s.down_bytes + s.up_bytes;
      if (s.down_bytes + s.up_bytes > 0) record.samples.push_back(UsageSample{s.ip, s.down_bytes, s.up_bytes});
    }
    avg_bytes_per_sample_ = samples.empty() ? 0 : static_cast<double>(tick_bytes) / static_cast<double>(samples.size());
    throughput_.add(clock_.mono_now(), tick_bytes);
  }

  std::unordered_map<IpAddress, AllocatorState> states;
  for (const auto& [ip, d] : devices_) states.emplace(ip, d.alloc);
  AllocationResult result = allocate(sampler_.windows(), std::move(states), config_.allocator, clock_);
  for (auto& [ip, state] : result.states) {
    DeviceState& d = devices_[ip];
    if (state.priority != d.alloc.priority) {
      d.policy_applied = false;
      d.dirty = true;
    }
    d.alloc = state;
  }
  if (config_.dry_run) {
    for (const auto& e : result.events) log_info(kLog, "dry run: " + e.message);
  }
  apply_policies_owned(false);

  record.events = std::move(result.events);
  for (auto& [ip, d] : devices_) {
    if (!d.dirty) continue;
    record.devices.push_back(stored_record(ip, d));
    d.dirty = false;
  }
  persist_owned(std::move(record));
  if (counters) save_baselines_owned();
  if (ticks_ % kMaintainEveryTicks == 0) {
    Retention retention{config_.store.raw_retention.count() * 1000, config_.store.minute_retention.count() * 1000,
                        config_.store.hour_retention.count() * 1000, config_.store.day_retention.count() * 1000};
    if (auto m = store_->maintain(now, retention); !m) log_warn(kLog, "database maintenance: " + m.message());
  }
  publish_owned();
}

void Agent::maintain_interfaces_owned() {
  auto notices = datapath_.maintain_interfaces();
  if (notices.empty()) return;
  TickRecord record;
  record.ts_ms = now_ms();
  for (auto& n : notices) {
    record.events.push_back(Event{clock_.wall_now(), n.problem ? EventLevel::Error : EventLevel::Info,
                                  std::move(n.message), "datapath", std::nullopt});
  }
  persist_owned(std::move(record));
  publish_owned();
}

void Agent::persist_owned(TickRecord record) {
  pending_.push(std::move(record));
  auto written = pending_.flush(*store_);
  if (!written) {
    if (db_error_.empty())
      log_error(kLog, "database write failed, keeping the tick for the next try: " + written.message());
    db_error_ = written.message();
  } else if (!db_error_.empty()) {
    log_info(kLog, "database writes work again");
    db_error_.clear();
  }
}

void Agent::save_baselines_owned() {
  if (counter_baseline_path_.empty()) return;
  // After the tick's rows are handed to the store: a kill between the two
  // can at worst count that one tick twice, never lose bytes.
  auto saved = save_baselines(counter_baseline_path_, SavedBaselines{sampler_.baselines(), sampler_.last_read()});
  if (!saved) {
    if (baseline_error_ != saved.message()) log_warn(kLog, saved.message() + " (a restart would lose one tick)");
    baseline_error_ = saved.message();
  } else {
    baseline_error_.clear();
  }
}

void Agent::publish_owned() {
  // On the owning thread: the datapath's status reads interfaces by name,
  // which must happen in the datapath's namespace.
  std::optional<GatewayHealth> gateway;
  if (prober_) gateway = prober_->health();
  Snapshot snap = build_snapshot(SnapshotInputs{
      .devices = devices_,
      .config = config_,
      .ticks = ticks_,
      .now_ms = now_ms(),
      .avg_bytes_per_sample = avg_bytes_per_sample_,
      .throughput_mbps = throughput_.mbit_per_sec(clock_.mono_now()),
      .gateway = std::move(gateway),
      .datapath = datapath_.status(),
      .datapath_error = datapath_error_,
      .privileges = privileges_,
      .db_error = db_error_,
      .pending_db_ticks = pending_.size(),
  });
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::make_shared<Snapshot>(std::move(snap))));
  std::atomic_store(&published_config_, std::shared_ptr<const Config>(std::make_shared<Config>(config_)));
}

}  // namespace bwalloc
