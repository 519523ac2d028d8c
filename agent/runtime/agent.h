// Agent: the running bwalloc. Each tick it reads the datapath's counters
// once, turns them into samples, runs the allocator, pushes changed
// policies to the datapath, writes the tick to SQLite in one transaction
// (kept and retried if the write fails) and publishes a Snapshot. Admin
// commands from the HTTP side run under the same lock and take effect in
// the datapath at once.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "agent/api/agent_control.h"
#include "agent/api/clock.h"
#include "agent/config/config.h"
#include "agent/core/allocator.h"
#include "agent/core/sampler.h"
#include "agent/api/datapath.h"
#include "agent/discovery/discovery.h"
#include "agent/metrics/gateway_prober.h"
#include "agent/metrics/traffic_metrics.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {

struct AgentParts {
  Config config;
  Datapath* datapath = nullptr;          // not owned
  std::unique_ptr<SqliteStore> store;    // the writer
  const Clock* clock = nullptr;          // not owned
  Discovery* discovery = nullptr;        // optional, not owned
  GatewayProber* prober = nullptr;       // optional, not owned
  // Where each tick saves the counter baselines so a restarted agent resumes
  // them (only for a datapath whose counters outlive the agent); "" = none.
  std::string counter_baseline_path = {};
  // The router's own addresses (and broadcast addresses), which are never a
  // device's; called on the tick thread, in the datapath's namespace. Empty:
  // none known (the simulator).
  std::function<std::vector<IpAddress>()> router_addresses = {};
};

class Agent final : public AgentControl {
 public:
  explicit Agent(AgentParts parts);

  // Loads devices, priorities, blocks and runtime settings from the store
  // and puts every known policy into the datapath (so blocks hold at once).
  [[nodiscard]] Result<void> restore();
  // One tick; the run loop calls this every config.allocator.tick.
  void tick();
  // Ticks until `stop` becomes true.
  void run(const std::atomic<bool>& stop);
  // Lets the datapath follow its interfaces and logs what it did as events;
  // the run loop calls it several times a second.
  void maintain_interfaces();
  // The capabilities the process kept after start-up, for /health; shown at
  // once (agent/runtime/privileges.h makes them). Any thread may call it.
  void set_privileges(PrivilegeView privileges);

  std::shared_ptr<const Snapshot> snapshot() const override;
  Result<void> set_priority(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor) override;
  Result<void> block(const IpAddress& ip, const std::string& reason, const std::string& actor) override;
  Result<void> unblock(const IpAddress& ip, const std::string& actor) override;
  Result<void> set_auto_mode(bool on, const std::string& actor) override;
  Result<std::vector<DeviceView>> discover(const std::string& actor) override;
  Result<std::vector<UsageRow>> recent_usage(size_t limit) const override;
  Result<std::vector<Event>> recent_events(size_t limit) const override;
  Result<std::vector<HistoryPoint>> history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                            HistoryResolution resolution) const override;
  Result<std::vector<BlockedEntry>> blocked() const override;
  std::vector<ConfigEntry> config() const override;
  Result<void> update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                             const std::string& actor) override;

 private:
  struct Device {
    DeviceRecord record;
    AllocatorState alloc;
    uint64_t up_total = 0;
    uint64_t down_total = 0;
    double up_rate = 0;
    double down_rate = 0;
    uint64_t blocked_drops = 0;
    uint64_t horizon_drops = 0;
    bool policy_applied = false;
    bool dirty = false;  // record changed since the last write
  };

  int64_t now_ms() const;
  // config_.allocator.tick, read under the lock (for the run loop).
  std::chrono::milliseconds tick_period() const;
  Device& device_locked(const IpAddress& ip);
  // Whether an admin command may make or change a device row for `ip`.
  Result<void> check_device_locked(const IpAddress& ip) const;
  void apply_policies_locked(bool all);
  Event admin_event(const IpAddress* ip, const std::string& actor, std::string message) const;
  // Queues `record` behind pending ticks and writes what it can now.
  void persist_locked(TickRecord record);
  void publish_locked();
  void save_baselines_locked();
  // The reader connection, opened on first use; call with reader_mutex_ held
  // (never with mutex_ held: it takes mutex_ to read the store's path).
  Result<SqliteStore*> reader() const;
  // Runs a query on the reader connection and converts its rows.
  template <class Row, class Query, class Convert>
  Result<std::vector<Row>> read_rows(Query query, Convert convert) const;

  mutable std::mutex mutex_;
  Config config_;
  Datapath& datapath_;
  std::unique_ptr<SqliteStore> store_;
  const Clock& clock_;
  Discovery* discovery_;
  GatewayProber* prober_;
  Sampler sampler_;
  ThroughputWindow throughput_;
  PendingWrites pending_{3600};
  std::unordered_map<IpAddress, Device> devices_;
  double avg_bytes_per_sample_ = 0;
  uint64_t ticks_ = 0;
  std::string db_error_;
  std::string datapath_error_;
  std::string counter_baseline_path_;
  std::function<std::vector<IpAddress>()> read_router_addresses_;
  std::vector<IpAddress> router_addresses_;
  std::string baseline_error_;
  PrivilegeView privileges_;
  std::shared_ptr<const Snapshot> snapshot_;
  mutable std::mutex reader_mutex_;
  mutable std::unique_ptr<SqliteStore> reader_;
};

}  // namespace bwalloc
