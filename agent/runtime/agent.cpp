// The agent's tick and commands; see agent.h.
#include "agent/runtime/agent.h"

#include <algorithm>
#include <thread>

#include "agent/common/device_address.h"
#include "agent/common/log.h"
#include "agent/common/utf8.h"
#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"
#include "agent/config/saved_settings.h"
#include "agent/core/policy_rates.h"
#include "agent/runtime/counter_baseline_file.h"
#include "agent/runtime/lifecycle_messages.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "agent";
constexpr int kMaintainEveryTicks = 60;
constexpr auto kDiscoveryInterval = std::chrono::seconds(30);
constexpr size_t kMaxReasonBytes = 500;  // a block reason, as the original kept it

int64_t to_ms(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Resolution store_resolution(HistoryResolution r) {
  switch (r) {
    case HistoryResolution::Raw: return Resolution::Raw;
    case HistoryResolution::Minute: return Resolution::Minute;
    case HistoryResolution::Hour: return Resolution::Hour;
    case HistoryResolution::Day: return Resolution::Day;
  }
  return Resolution::Raw;
}

EventLevel level_from(const std::string& name) {
  if (name == "ALERT") return EventLevel::Alert;
  if (name == "AUTO") return EventLevel::Auto;
  if (name == "ADMIN") return EventLevel::Admin;
  if (name == "ERROR") return EventLevel::Error;
  return EventLevel::Info;
}
}  // namespace

Agent::Agent(AgentParts parts)
    : config_(std::move(parts.config)),
      datapath_(*parts.datapath),
      store_(std::move(parts.store)),
      clock_(*parts.clock),
      discovery_(parts.discovery),
      prober_(parts.prober),
      sampler_(static_cast<size_t>(config_.allocator.window_samples), config_.allocator.tick, std::chrono::minutes(10)),
      counter_baseline_path_(std::move(parts.counter_baseline_path)),
      read_router_addresses_(std::move(parts.router_addresses)) {
  std::lock_guard lock(mutex_);
  publish_locked();
}

int64_t Agent::now_ms() const { return to_ms(clock_.wall_now()); }

Agent::Device& Agent::device_locked(const IpAddress& ip) {
  auto [it, created] = devices_.try_emplace(ip);
  if (created) {
    it->second.record.ip = ip;
    it->second.record.first_seen_ms = now_ms();
    it->second.record.last_seen_ms = 0;
    it->second.dirty = true;
  }
  return it->second;
}

Result<void> Agent::restore() {
  std::lock_guard lock(mutex_);
  if (read_router_addresses_) router_addresses_ = read_router_addresses_();
  // What the start could not take back: said in the log and the event list.
  TickRecord refused;
  refused.ts_ms = now_ms();
  auto refuse = [&](const std::string& why, std::optional<IpAddress> device = std::nullopt) {
    log_error(kLog, why);
    refused.events.push_back(Event{clock_.wall_now(), EventLevel::Error, why, "agent", device});
  };
  auto stored_config = store_->config_values();
  if (!stored_config) return Error{"read saved settings: " + stored_config.message()};
  LoadedSettings settings = load_saved_settings(config_, *stored_config);
  config_ = std::move(settings.config);
  // Each row that cannot load costs only itself, and says so at every start
  // until the setting is saved again.
  for (const auto& why : settings.skipped) refuse(why + "; the config file's value holds until it is set again");
  auto devices = store_->devices();
  if (!devices) return Error{"read devices: " + devices.message()};
  for (const auto& record : *devices) {
    // Rows an older version let the API make (0.0.0.0, multicast, the
    // router itself) are left out: their policies must not reach the kernel.
    if (auto device = check_device_address(record.ip, router_addresses_); !device) continue;
    Device& d = devices_[record.ip];
    d.record = record;
    d.alloc.priority = record.priority;
    d.alloc.manual = record.manual;
  }
  auto blocks = store_->blocked();
  if (!blocks) return Error{"read blocked devices: " + blocks.message()};
  size_t restored_blocks = 0;
  for (const auto& b : *blocks) {
    if (auto device = check_device_address(b.ip, router_addresses_); !device) {
      refuse("dropped the saved block of " + b.ip.to_string() + " (" + device.message() + ")", b.ip);
      refused.unblocks.push_back(b.ip);
      continue;
    }
    Device& d = device_locked(b.ip);
    d.alloc.priority = Priority::Blocked;
    d.record.priority = Priority::Blocked;
    ++restored_blocks;
  }
  if (!refused.events.empty()) persist_locked(std::move(refused));
  const size_t saved_devices = devices_.size();
  // Totals come from the kernel's counters, which outlive the agent: take
  // them now so the API never shows a device's total fall back to 0 while
  // a restarted agent waits for its first tick.
  if (auto counters = datapath_.read_counters()) {
    for (const auto& c : *counters) {
      if (!check_device_address(c.address, router_addresses_)) continue;
      Device& d = device_locked(c.address);
      d.up_total = c.up_bytes;
      d.down_total = c.down_bytes;
    }
  }
  if (!counter_baseline_path_.empty()) {
    auto saved = load_baselines(counter_baseline_path_);
    if (!saved) {
      log_warn(kLog, saved.message());
    } else if (saved->has_value()) {
      // The first tick then records the bytes of the downtime instead of
      // only setting a baseline: a restart leaves no hole in the history.
      bool resumed = sampler_.resume((*saved)->devices, (*saved)->read_at, clock_.mono_now());
      log_info(kLog, resumed ? "resuming the counters of " + std::to_string((*saved)->devices.size()) +
                                   " devices from the previous agent's last tick"
                             : "the previous agent's counter baselines are too old; starting afresh");
    }
  }
  apply_policies_locked(true);
  // Devices the datapath shows that the database did not know are new, not
  // restored (the simulator's on a first start).
  log_info(kLog, restored_message(saved_devices, restored_blocks, devices_.size() - saved_devices, config_.store.path));
  publish_locked();
  return {};
}

void Agent::apply_policies_locked(bool all) {
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

void Agent::tick() {
  std::lock_guard lock(mutex_);
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
    std::erase_if(*counters, [&](const DeviceCounters& c) { return !check_device_address(c.address, router_addresses_); });
    auto samples = sampler_.update(*counters, clock_.mono_now());
    for (const auto& c : *counters) {
      Device& d = device_locked(c.address);
      d.up_total = c.up_bytes;
      d.down_total = c.down_bytes;
      d.blocked_drops = c.blocked_drops;
      d.horizon_drops = c.horizon_drops;
      // The kernel saw a packet this recently: that is when it was last seen.
      int64_t seen = now - static_cast<int64_t>(c.last_seen_age_ns / 1'000'000);
      // A last-seen time ahead of now was taken while the wall clock ran
      // ahead (it has been stepped back since): the new sighting replaces it.
      if (seen > d.record.last_seen_ms + 500 || d.record.last_seen_ms > now) {
        d.record.last_seen_ms = seen;
        if (ticks_ % 10 == 0) d.dirty = true;  // last_seen is kept to within 10 ticks
      }
    }
    uint64_t tick_bytes = 0;
    for (const auto& s : samples) {
      Device& d = device_locked(s.ip);
      d.up_rate = s.tx_bits_per_sec;
      d.down_rate = s.rx_bits_per_sec;
      tick_bytes += s.rx_bytes + s.tx_bytes;
      if (s.rx_bytes + s.tx_bytes > 0) record.samples.push_back(UsageSample{s.ip, s.rx_bytes, s.tx_bytes});
    }
    avg_bytes_per_sample_ = samples.empty() ? 0 : static_cast<double>(tick_bytes) / static_cast<double>(samples.size());
    throughput_.add(clock_.mono_now(), tick_bytes);
  }

  std::unordered_map<IpAddress, AllocatorState> states;
  for (const auto& [ip, d] : devices_) states.emplace(ip, d.alloc);
  AllocationResult result = allocate(sampler_.windows(), std::move(states), config_.allocator, clock_);
  for (auto& [ip, state] : result.states) {
    Device& d = devices_[ip];
    if (state.priority != d.alloc.priority) {
      d.policy_applied = false;
      d.record.priority = state.priority;
      d.dirty = true;
    }
    d.alloc = state;
  }
  if (config_.dry_run) {
    for (const auto& e : result.events) log_info(kLog, "dry run: " + e.message);
  }
  apply_policies_locked(false);

  record.events = std::move(result.events);
  for (auto& [ip, d] : devices_) {
    if (!d.dirty) continue;
    d.record.priority = d.alloc.priority;
    d.record.manual = d.alloc.manual;
    record.devices.push_back(d.record);
    d.dirty = false;
  }
  persist_locked(std::move(record));
  if (counters) save_baselines_locked();
  if (ticks_ % kMaintainEveryTicks == 0) {
    Retention retention{config_.store.raw_retention.count() * 1000, config_.store.minute_retention.count() * 1000,
                        config_.store.hour_retention.count() * 1000, config_.store.day_retention.count() * 1000};
    if (auto m = store_->maintain(now, retention); !m) log_warn(kLog, "database maintenance: " + m.message());
  }
  publish_locked();
}

void Agent::run(const std::atomic<bool>& stop) {
  auto next = std::chrono::steady_clock::now();
  auto next_scan = next;
  while (!stop) {
    tick();
    // Names, MACs and vendors fill in by themselves; Scan LAN only hurries it.
    if (discovery_ && std::chrono::steady_clock::now() >= next_scan) {
      if (auto scanned = discover("discovery"); !scanned) log_warn(kLog, "neighbour scan: " + scanned.message());
      next_scan = std::chrono::steady_clock::now() + kDiscoveryInterval;
    }
    next += tick_period();
    auto now = std::chrono::steady_clock::now();
    if (next < now) next = now;  // a slow tick: do not try to catch up in a burst
    while (!stop && std::chrono::steady_clock::now() < next) {
      std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(next - std::chrono::steady_clock::now(),
                                                                               std::chrono::milliseconds(100)));
      // Between ticks too: an interface that comes back gets its programs
      // within a fraction of a second, whatever the tick.
      maintain_interfaces();
    }
  }
}

void Agent::maintain_interfaces() {
  std::lock_guard lock(mutex_);
  auto notices = datapath_.maintain_interfaces();
  if (notices.empty()) return;
  TickRecord record;
  record.ts_ms = now_ms();
  for (auto& n : notices) {
    record.events.push_back(Event{clock_.wall_now(), n.problem ? EventLevel::Error : EventLevel::Info,
                                  std::move(n.message), "datapath", std::nullopt});
  }
  persist_locked(std::move(record));
  publish_locked();
}

void Agent::persist_locked(TickRecord record) {
  pending_.push(std::move(record));
  auto written = pending_.flush(*store_);
  if (!written) {
    if (db_error_.empty()) log_error(kLog, "database write failed, keeping the tick for the next try: " + written.message());
    db_error_ = written.message();
  } else if (!db_error_.empty()) {
    log_info(kLog, "database writes work again");
    db_error_.clear();
  }
}

void Agent::save_baselines_locked() {
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

Event Agent::admin_event(const IpAddress* ip, const std::string& actor, std::string message) const {
  Event e{clock_.wall_now(), EventLevel::Admin, std::move(message), actor, std::nullopt};
  if (ip) e.device = *ip;
  return e;
}

Result<void> Agent::check_device_locked(const IpAddress& ip) const { return check_device_address(ip, router_addresses_); }

Result<void> Agent::set_priority(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor) {
  if (priority == Priority::Blocked) return block(ip, "set to Blocked by " + actor, actor);
  std::lock_guard lock(mutex_);
  if (auto device = check_device_locked(ip); !device) return device;
  Device& d = device_locked(ip);
  const Priority before = d.alloc.priority;
  TickRecord record;
  record.ts_ms = now_ms();
  if (priority) {
    d.alloc.priority = *priority;
    d.alloc.manual = true;
  } else {
    d.alloc.manual = false;  // the allocator decides again from the next tick
  }
  d.alloc.pending.reset();
  d.alloc.pending_ticks = 0;
  if (before == Priority::Blocked) record.unblocks.push_back(ip);
  d.record.priority = d.alloc.priority;
  d.record.manual = d.alloc.manual;
  d.policy_applied = false;
  apply_policies_locked(false);
  record.devices.push_back(d.record);
  record.events.push_back(admin_event(&ip, actor,
                                      priority ? ip.to_string() + " set to " + std::string(priority_name(*priority)) +
                                                     " (manual) by " + actor
                                               : ip.to_string() + " back to automatic priority by " + actor));
  persist_locked(std::move(record));
  publish_locked();
  return {};
}

Result<void> Agent::block(const IpAddress& ip, const std::string& given_reason, const std::string& actor) {
  std::lock_guard lock(mutex_);
  // Blocking 0.0.0.0 would drop every DHCP discovery, a multicast group
  // every device's mDNS: refused before any row is made.
  if (auto device = check_device_locked(ip); !device) return device;
  // Cut between characters: a character split at the cap made every later
  // /api/blocked and /api/events body invalid UTF-8.
  const std::string reason = truncate_utf8(repair_utf8(given_reason), kMaxReasonBytes);
  Device& d = device_locked(ip);
  d.alloc = AllocatorState{};
  d.alloc.priority = Priority::Blocked;
  d.record.priority = Priority::Blocked;
  d.record.manual = false;
  d.policy_applied = false;
  apply_policies_locked(false);
  TickRecord record;
  record.ts_ms = now_ms();
  record.blocks.push_back(BlockRecord{ip, reason, record.ts_ms});
  record.devices.push_back(d.record);
  record.events.push_back(admin_event(&ip, actor, "blocked " + ip.to_string() + " by " + actor +
                                                      (reason.empty() ? "" : ": " + reason)));
  persist_locked(std::move(record));
  publish_locked();
  return {};
}

Result<void> Agent::unblock(const IpAddress& ip, const std::string& actor) {
  std::lock_guard lock(mutex_);
  if (auto device = check_device_locked(ip); !device) return device;
  Device& d = device_locked(ip);
  d.alloc = AllocatorState{};
  d.record.priority = Priority::Normal;
  d.record.manual = false;
  d.policy_applied = false;
  apply_policies_locked(false);
  TickRecord record;
  record.ts_ms = now_ms();
  record.unblocks.push_back(ip);
  record.devices.push_back(d.record);
  record.events.push_back(admin_event(&ip, actor, "unblocked " + ip.to_string() + " by " + actor + " (back to auto, Normal)"));
  persist_locked(std::move(record));
  publish_locked();
  return {};
}

Result<void> Agent::set_auto_mode(bool on, const std::string& actor) {
  return update_config({{"allocator.auto_mode", on ? "true" : "false"}}, actor);
}

Result<std::vector<DeviceView>> Agent::discover(const std::string& actor) {
  if (!discovery_) return Error{"discovery is not available with this backend"};
  auto found = discovery_->scan();  // netlink only; no lock held meanwhile
  if (!found) return found.error();
  {
    std::lock_guard lock(mutex_);
    TickRecord record;
    record.ts_ms = now_ms();
    for (const auto& f : *found) {
      if (!check_device_locked(f.ip)) continue;
      Device& d = device_locked(f.ip);
      // Names and addresses only: discovery never changes a priority.
      if (!f.mac.empty()) d.record.mac = f.mac;
      if (!f.hostname.empty()) d.record.hostname = f.hostname;
      if (!f.vendor.empty()) d.record.vendor = f.vendor;
      record.devices.push_back(d.record);
    }
    if (actor != "discovery") {
      record.events.push_back(admin_event(nullptr, actor, "LAN scan by " + actor + ": " + std::to_string(found->size()) +
                                                              " neighbours"));
    }
    apply_policies_locked(false);  // new devices start at Normal's rate
    persist_locked(std::move(record));
    publish_locked();
  }
  return snapshot()->devices;
}

void Agent::publish_locked() {
  auto snap = std::make_shared<Snapshot>();
  snap->tick = ticks_;
  snap->ts_ms = now_ms();
  snap->auto_mode = config_.allocator.auto_mode;
  int low = 0, blocked = 0, active = 0;
  for (const auto& [ip, d] : devices_) {
    DeviceView v;
    v.ip = ip;
    v.mac = d.record.mac;
    v.hostname = d.record.hostname;
    v.vendor = d.record.vendor;
    v.priority = d.alloc.priority;
    v.manual = d.alloc.manual;
    v.pending_priority = d.alloc.pending;
    v.pending_ticks = d.alloc.pending_ticks;
    v.pending_ticks_needed = config_.allocator.demotion_ticks;
    v.up_bytes_total = d.up_total;
    v.down_bytes_total = d.down_total;
    v.up_bits_per_sec = d.up_rate;
    v.down_bits_per_sec = d.down_rate;
    uint64_t limit = rate_for(d.alloc.priority, config_.rates);
    v.up_limit_bits_per_sec = limit;
    v.down_limit_bits_per_sec = limit;
    v.blocked_drops = d.blocked_drops;
    v.horizon_drops = d.horizon_drops;
    v.first_seen_ms = d.record.first_seen_ms;
    v.last_seen_ms = d.record.last_seen_ms;
    v.active = is_active(d.record.last_seen_ms, snap->ts_ms);
    low += d.alloc.priority == Priority::Low;
    blocked += d.alloc.priority == Priority::Blocked;
    active += v.active;
    snap->devices.push_back(std::move(v));
  }
  std::sort(snap->devices.begin(), snap->devices.end(), [](const DeviceView& a, const DeviceView& b) { return a.ip < b.ip; });
  auto& m = snap->metrics;
  m.total_devices = static_cast<int>(devices_.size());
  m.active_devices = active;
  m.blocked_devices = blocked;
  m.avg_bytes_per_sample = avg_bytes_per_sample_;
  m.throughput_mbps = throughput_.mbit_per_sec(clock_.mono_now());
  m.congestion_percent = congestion_percent(low, m.total_devices);
  if (prober_) {
    GatewayHealth h = prober_->health();
    m.delay_ms = h.delay_ms;
    m.packet_loss_percent = h.loss_percent;
  }
  snap->health.datapath = datapath_.status();
  snap->health.privileges = privileges_;
  snap->health.db_ok = db_error_.empty();
  snap->health.db_error = db_error_;
  snap->health.last_tick_ms = snap->ts_ms;
  snap->health.ticks = ticks_;
  snap->health.pending_db_ticks = pending_.size();
  if (!datapath_error_.empty()) snap->health.datapath.pacing_note += "; datapath error: " + datapath_error_;
  std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(snap)));
}

std::shared_ptr<const Snapshot> Agent::snapshot() const { return std::atomic_load(&snapshot_); }

void Agent::set_privileges(PrivilegeView privileges) {
  std::lock_guard lock(mutex_);
  privileges_ = std::move(privileges);
  // Patch the current snapshot rather than publish a new one: publishing
  // reads the datapath, which must happen in the router's namespace (the
  // tick thread), and the caller may be elsewhere.
  if (auto current = std::atomic_load(&snapshot_)) {
    auto patched = std::make_shared<Snapshot>(*current);
    patched->health.privileges = privileges_;
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(patched)));
  }
}

std::chrono::milliseconds Agent::tick_period() const {
  // update_config assigns config_ from an HTTP thread, under the lock.
  std::lock_guard lock(mutex_);
  return config_.allocator.tick;
}

Result<SqliteStore*> Agent::reader() const {
  if (!reader_) {
    std::string path;
    {
      // Under reader_mutex_ (read_rows); update_config writes config_ under mutex_.
      std::lock_guard lock(mutex_);
      path = config_.store.path;
    }
    auto opened = SqliteStore::open_reader(path);
    if (!opened) return opened.error();
    reader_ = std::move(*opened);
  }
  return reader_.get();
}

template <class Row, class Query, class Convert>
Result<std::vector<Row>> Agent::read_rows(Query query, Convert convert) const {
  std::lock_guard lock(reader_mutex_);
  auto db = reader();
  if (!db) return db.error();
  auto rows = query(**db);
  if (!rows) return rows.error();
  std::vector<Row> out;
  for (const auto& r : *rows) {
    if (std::optional<Row> row = convert(r)) out.push_back(std::move(*row));
  }
  return out;
}

Result<std::vector<UsageRow>> Agent::recent_usage(size_t limit) const {
  return read_rows<UsageRow>([&](SqliteStore& db) { return db.recent_usage(limit); },
                             [](const StoredUsage& r) -> std::optional<UsageRow> {
                               auto ip = IpAddress::parse(r.ip);
                               if (!ip) return std::nullopt;
                               return UsageRow{*ip, r.ts_ms, r.rx_bytes, r.tx_bytes};
                             });
}

Result<std::vector<Event>> Agent::recent_events(size_t limit) const {
  return read_rows<Event>([&](SqliteStore& db) { return db.recent_events(limit); },
                          [](const StoredEvent& r) -> std::optional<Event> {
                            Event e{std::chrono::system_clock::time_point(std::chrono::milliseconds(r.ts_ms)),
                                    level_from(r.level), r.message, r.actor, std::nullopt};
                            if (auto ip = IpAddress::parse(r.ip); ip) e.device = *ip;
                            return e;
                          });
}

Result<std::vector<HistoryPoint>> Agent::history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                                 HistoryResolution resolution) const {
  return read_rows<HistoryPoint>(
      [&](SqliteStore& db) { return db.history(ip.to_string(), from_ms, to_ms, store_resolution(resolution)); },
      [](const StoredUsage& r) -> std::optional<HistoryPoint> { return HistoryPoint{r.ts_ms, r.rx_bytes, r.tx_bytes}; });
}

Result<std::vector<BlockedEntry>> Agent::blocked() const {
  return read_rows<BlockedEntry>([](SqliteStore& db) { return db.blocked(); },
                                 [](const BlockRecord& b) -> std::optional<BlockedEntry> {
                                   return BlockedEntry{b.ip, b.reason, b.ts_ms};
                                 });
}

std::vector<ConfigEntry> Agent::config() const {
  std::lock_guard lock(mutex_);
  std::vector<ConfigEntry> out;
  for (const auto& key : config_keys()) out.push_back(ConfigEntry{key.name, key.get(config_), key.runtime});
  return out;
}

Result<void> Agent::update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                                  const std::string& actor) {
  std::lock_guard lock(mutex_);
  auto changed = with_changes(config_, changes, true);
  if (!changed) return changed.error();
  const bool rates_changed = changed->rates.high_bits_per_sec != config_.rates.high_bits_per_sec ||
                             changed->rates.normal_bits_per_sec != config_.rates.normal_bits_per_sec ||
                             changed->rates.low_bits_per_sec != config_.rates.low_bits_per_sec;
  if (auto settings = datapath_.update_settings(changed->datapath); !settings) {
    return Error{"apply datapath settings: " + settings.message()};
  }
  config_ = *changed;
  set_log_level(config_.log_level);
  if (rates_changed) apply_policies_locked(true);
  TickRecord record;
  record.ts_ms = now_ms();
  std::string summary;
  for (const auto& [key, value] : changes) {
    const ConfigKey* k = find_config_key(key);
    record.config.emplace_back(key, k ? k->get(config_) : value);
    summary += (summary.empty() ? "" : ", ") + key + " = " + record.config.back().second;
  }
  record.events.push_back(admin_event(nullptr, actor, "settings changed by " + actor + ": " + summary));
  persist_locked(std::move(record));
  publish_locked();
  return {};
}

}  // namespace bwalloc
