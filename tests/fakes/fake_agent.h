// FakeAgent: the agent's ports (AgentControl) without an agent, for tests of
// the HTTP server itself (limits, streams, parsing, static files): a fixed
// set of devices in an immutable snapshot that tick() republishes, commands
// that succeed and are recorded, settings from the real settings table, no
// history. What the API answers about real agent behaviour is tested
// against the real agent (tests/unit/http/route_fixture.h).
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "agent/api/agent_control.h"
#include "agent/config/config.h"
#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"

namespace bwalloc::test {

class FakeAgent final : public AgentControl {
 public:
  // Devices 10.0.0.1 .. 10.0.0.N, Normal, each a little traffic.
  explicit FakeAgent(int devices = 12) {
    auto first = std::make_shared<Snapshot>();
    first->ts_ms = 1'700'000'000'000;
    for (int i = 1; i <= devices; ++i) {
      DeviceView d;
      d.ip = *IpAddress::parse("10.0.0." + std::to_string(i));
      d.hostname = "device-" + std::to_string(i);
      d.up_bytes_total = 1000u * static_cast<uint64_t>(i);
      d.down_bytes_total = 5000u * static_cast<uint64_t>(i);
      d.active = true;
      first->devices.push_back(d);
    }
    first->metrics.total_devices = devices;
    first->metrics.active_devices = devices;
    first->health.ticks = 1;
    first->tick = 1;
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(first)));
  }

  // Publishes the next snapshot: tick + 1, one second later.
  void tick() {
    auto next = std::make_shared<Snapshot>(*snapshot());
    next->tick += 1;
    next->ts_ms += 1000;
    next->health.ticks = next->tick;
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
  }

  // The commands received so far, as "block 10.0.0.3" and the like.
  std::vector<std::string> commands() const {
    std::lock_guard lock(mutex_);
    return commands_;
  }

  std::shared_ptr<const Snapshot> snapshot() const override { return std::atomic_load(&snapshot_); }
  std::vector<ConfigEntry> config() const override {
    std::lock_guard lock(mutex_);
    std::vector<ConfigEntry> out;
    for (const auto& key : config_keys()) out.push_back(ConfigEntry{key.name, key.get(config_), key.runtime});
    return out;
  }

  Result<void> set_priority(const IpAddress& ip, std::optional<Priority> priority, const std::string&) override {
    return record("set_priority " + ip.to_string() + " " +
                  (priority ? std::string(priority_name(*priority)) : std::string("auto")));
  }
  Result<void> block(const IpAddress& ip, const std::string&, const std::string&) override {
    return record("block " + ip.to_string());
  }
  Result<void> unblock(const IpAddress& ip, const std::string&) override { return record("unblock " + ip.to_string()); }
  Result<void> set_auto_mode(bool on, const std::string&) override {
    auto next = std::make_shared<Snapshot>(*snapshot());
    next->auto_mode = on;
    std::atomic_store(&snapshot_, std::shared_ptr<const Snapshot>(std::move(next)));
    return record(std::string("auto ") + (on ? "on" : "off"));
  }
  Result<std::vector<DeviceView>> discover(const std::string&) override {
    if (auto r = record("discover"); !r) return r.error();
    return snapshot()->devices;
  }
  Result<std::vector<UsageRow>> recent_usage(size_t) const override { return std::vector<UsageRow>{}; }
  Result<std::vector<Event>> recent_events(size_t) const override { return std::vector<Event>{}; }
  Result<std::vector<HistoryPoint>> history(const IpAddress&, int64_t, int64_t, HistoryResolution) const override {
    return std::vector<HistoryPoint>{};
  }
  Result<std::vector<BlockedEntry>> blocked() const override { return std::vector<BlockedEntry>{}; }

  // Through the real settings loader, all or none, runtime keys only.
  Result<void> update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                             const std::string&) override {
    std::lock_guard lock(mutex_);
    auto changed = with_changes(config_, changes, true);
    if (!changed) return changed.error();
    config_ = *changed;
    commands_.push_back("config");
    return {};
  }

 private:
  Result<void> record(std::string command) {
    std::lock_guard lock(mutex_);
    commands_.push_back(std::move(command));
    return {};
  }

  std::shared_ptr<const Snapshot> snapshot_;
  mutable std::mutex mutex_;  // guards commands_ and config_
  std::vector<std::string> commands_;
  Config config_;
};

}  // namespace bwalloc::test
