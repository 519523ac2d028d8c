// The agent's construction, its published reads and the hand-over of each
// command to the tick thread; see agent.h. The tick itself is in
// agent_tick.cpp, the commands' bodies in agent_commands.cpp.
#include "agent/runtime/agent.h"

#include "agent/common/log.h"
#include "agent/config/config_keys.h"

namespace bwalloc {

Agent::Agent(AgentParts parts)
    : mailbox_(parts.command_timeout),
      clock_(*parts.clock),
      discovery_(parts.discovery),
      prober_(parts.prober),
      history_(parts.config.store.path),
      counter_baseline_path_(std::move(parts.counter_baseline_path)),
      read_router_addresses_(std::move(parts.router_addresses)),
      config_(std::move(parts.config)),
      datapath_(*parts.datapath),
      store_(std::move(parts.store)),
      sampler_(static_cast<size_t>(config_.allocator.window_samples), config_.allocator.tick,
               std::chrono::minutes(10)) {
  std::lock_guard owner(mailbox_.owner_lock());
  publish_owned();
}

int64_t Agent::now_ms() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(clock_.wall_now().time_since_epoch()).count();
}

std::shared_ptr<const Snapshot> Agent::snapshot() const { return std::atomic_load(&snapshot_); }

std::vector<ConfigEntry> Agent::config() const {
  const std::shared_ptr<const Config> current = std::atomic_load(&published_config_);
  std::vector<ConfigEntry> out;
  for (const auto& key : config_keys()) out.push_back(ConfigEntry{key.name, key.get(*current), key.runtime});
  return out;
}

void Agent::set_privileges(PrivilegeView privileges) {
  auto shown = mailbox_.call<void>([this, privileges = std::move(privileges)]() -> Result<void> {
    privileges_ = privileges;
    publish_owned();
    return {};
  });
  if (!shown) log_warn("agent", "show the kept capabilities in /health: " + shown.message());
}

void Agent::tick() {
  std::lock_guard owner(mailbox_.owner_lock());
  tick_owned();
}

// Each command copies its arguments into the closure: a caller that timed
// out stops waiting, the closure may still run.
Result<void> Agent::set_priority(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor) {
  return mailbox_.call<void>([this, ip, priority, actor] { return set_priority_owned(ip, priority, actor); });
}

Result<void> Agent::block(const IpAddress& ip, const std::string& reason, const std::string& actor) {
  return mailbox_.call<void>([this, ip, reason, actor] { return block_owned(ip, reason, actor); });
}

Result<void> Agent::unblock(const IpAddress& ip, const std::string& actor) {
  return mailbox_.call<void>([this, ip, actor] { return unblock_owned(ip, actor); });
}

Result<void> Agent::set_auto_mode(bool on, const std::string& actor) {
  return update_config({{"allocator.auto_mode", on ? "true" : "false"}}, actor);
}

Result<void> Agent::update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                                  const std::string& actor) {
  return mailbox_.call<void>([this, changes, actor] { return update_config_owned(changes, actor); });
}

Result<std::vector<DeviceView>> Agent::discover(const std::string& actor) {
  if (!discovery_) return Error{"discovery is not available with this backend"};
  // The scan reads the neighbour table through a netlink socket opened in
  // the router's namespace, so it may run here; merging its result into the
  // devices is the tick thread's.
  auto found = discovery_->scan();
  if (!found) return found.error();
  auto merged = mailbox_.call<void>([this, found = std::move(*found), actor]() -> Result<void> {
    merge_neighbours_owned(found, actor);
    return {};
  });
  if (!merged) return merged.error();
  return snapshot()->devices;
}

Result<std::vector<UsageRow>> Agent::recent_usage(size_t limit) const { return history_.recent_usage(limit); }

Result<std::vector<Event>> Agent::recent_events(size_t limit) const { return history_.recent_events(limit); }

Result<std::vector<HistoryPoint>> Agent::history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                                 HistoryResolution resolution) const {
  return history_.history(ip, from_ms, to_ms, resolution);
}

Result<std::vector<BlockedEntry>> Agent::blocked() const { return history_.blocked(); }

}  // namespace bwalloc
