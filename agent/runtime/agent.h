// Agent: the running bwalloc, an actor. Its tick thread (Agent::run) alone
// owns the device state, the datapath and the store writer: each tick it
// reads the datapath's counters once, turns them into samples, runs the
// allocator, pushes changed policies to the datapath, writes the tick to
// SQLite in one transaction (kept and retried if the write fails) and
// publishes an immutable Snapshot. Admin commands from the HTTP side go
// through a CommandMailbox (see its header for the contract, also for tests
// that drive tick() by hand): the tick thread runs them between ticks, at
// once, in the datapath's namespace. Snapshot and settings reads take the
// published copies; history reads use the store's reader connection.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <unordered_map>

#include "agent/api/agent_control.h"
#include "agent/api/clock.h"
#include "agent/api/datapath.h"
#include "agent/config/config.h"
#include "agent/core/allocator.h"
#include "agent/core/sampler.h"
#include "agent/discovery/discovery.h"
#include "agent/metrics/gateway_prober.h"
#include "agent/metrics/traffic_metrics.h"
#include "agent/runtime/command_mailbox.h"
#include "agent/runtime/device_state.h"
#include "agent/runtime/store_history.h"
#include "agent/store/sqlite_store.h"

namespace bwalloc {

struct AgentParts {
  Config config;
  Datapath* datapath = nullptr;        // not owned
  std::unique_ptr<SqliteStore> store;  // the writer
  const Clock* clock = nullptr;        // not owned
  Discovery* discovery = nullptr;      // optional, not owned
  GatewayProber* prober = nullptr;     // optional, not owned
  // Where each tick saves the counter baselines so a restarted agent resumes
  // them (only for a datapath whose counters outlive the agent); "" = none.
  std::string counter_baseline_path = {};
  // The router's own addresses (and broadcast addresses), which are never a
  // device's; called on the tick thread, in the datapath's namespace. Empty:
  // none known (the simulator).
  std::function<std::vector<IpAddress>()> router_addresses = {};
  // How long a command waits for the tick thread before it answers that
  // the agent did not answer.
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
};

class Agent final : public AgentControl {
 public:
  explicit Agent(AgentParts parts);

  // Loads devices, priorities, blocks and runtime settings from the store
  // and puts every known policy into the datapath (so blocks hold at once).
  // Before run() starts, on the thread that will own the agent.
  [[nodiscard]] Result<void> restore();
  // One tick; the run loop calls this every config.allocator.tick. Tests
  // call it by hand while no run loop runs.
  void tick();
  // The tick thread: ticks on the Clock's schedule, runs commands as they
  // come, follows the interfaces and scans the LAN until `stop` is true.
  void run(const std::atomic<bool>& stop);
  // Called before the thread that will call run() starts: from here on
  // every command waits for the run loop, so none runs on a caller's thread
  // (an HTTP thread, outside the router's namespace) before run() begins.
  void expect_run_loop() { mailbox_.open(); }
  // The capabilities the process kept after start-up, for /health; shown at
  // once. Any thread may call it.
  void set_privileges(PrivilegeView privileges);

  // SnapshotSource
  std::shared_ptr<const Snapshot> snapshot() const override;
  std::vector<ConfigEntry> config() const override;
  // AgentCommands (each runs on the tick thread; see CommandMailbox)
  Result<void> set_priority(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor) override;
  Result<void> block(const IpAddress& ip, const std::string& reason, const std::string& actor) override;
  Result<void> unblock(const IpAddress& ip, const std::string& actor) override;
  Result<void> set_auto_mode(bool on, const std::string& actor) override;
  Result<std::vector<DeviceView>> discover(const std::string& actor) override;
  Result<void> update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                             const std::string& actor) override;
  // HistoryQueries
  Result<std::vector<UsageRow>> recent_usage(size_t limit) const override;
  Result<std::vector<Event>> recent_events(size_t limit) const override;
  Result<std::vector<HistoryPoint>> history(const IpAddress& ip, int64_t from_ms, int64_t to_ms,
                                            HistoryResolution resolution) const override;
  Result<std::vector<BlockedEntry>> blocked() const override;

 private:
  // Everything below "owned" is touched only with the mailbox's owner lock
  // held: by the tick thread, or inline while no run loop runs. The *_owned
  // functions expect that lock.
  void tick_owned();
  // Lets the datapath follow its interfaces and logs what it did as events;
  // the run loop calls it several times a second.
  void maintain_interfaces_owned();
  void scan_owned(const std::string& actor);
  Result<void> set_priority_owned(const IpAddress& ip, std::optional<Priority> priority, const std::string& actor);
  Result<void> block_owned(const IpAddress& ip, const std::string& reason, const std::string& actor);
  Result<void> unblock_owned(const IpAddress& ip, const std::string& actor);
  Result<void> update_config_owned(const std::vector<std::pair<std::string, std::string>>& changes,
                                   const std::string& actor);
  void merge_neighbours_owned(const std::vector<DiscoveredDevice>& found, const std::string& actor);

  int64_t now_ms() const;
  DeviceState& device_owned(const IpAddress& ip);
  // Whether an admin command may make or change a device row for `ip`.
  Result<void> check_device_owned(const IpAddress& ip) const;
  void apply_policies_owned(bool all);
  // A command's record, stamped now.
  TickRecord command_record() const;
  // The end of every admin command: its one ADMIN event (about `ip`, if
  // given) into `record`, the record written, a snapshot published.
  void finish_command(TickRecord record, std::optional<IpAddress> ip, const std::string& actor, std::string message);
  // Queues `record` behind pending ticks and writes what it can now.
  void persist_owned(TickRecord record);
  void publish_owned();
  void save_baselines_owned();

  CommandMailbox mailbox_;
  const Clock& clock_;
  Discovery* const discovery_;
  GatewayProber* const prober_;
  StoreHistory history_;
  const std::string counter_baseline_path_;
  const std::function<std::vector<IpAddress>()> read_router_addresses_;

  // Owned (see above).
  Config config_;
  Datapath& datapath_;
  std::unique_ptr<SqliteStore> store_;
  Sampler sampler_;
  ThroughputWindow throughput_;
  PendingWrites pending_{3600};
  std::unordered_map<IpAddress, DeviceState> devices_;
  double avg_bytes_per_sample_ = 0;
  uint64_t ticks_ = 0;
  std::string db_error_;
  std::string datapath_error_;
  std::vector<IpAddress> router_addresses_;
  std::string baseline_error_;
  PrivilegeView privileges_;

  // Published: replaced whole, read by any thread (std::atomic_load/store).
  std::shared_ptr<const Snapshot> snapshot_;
  std::shared_ptr<const Config> published_config_;
};

}  // namespace bwalloc
