// The agent's views: what the HTTP side reads from the running agent (the
// published Snapshot, history rows, settings). Plain values, copied freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/api/datapath.h"
#include "agent/common/history_resolution.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"

namespace bwalloc {

// One device as the dashboard and the API show it.
struct DeviceView {
  IpAddress ip;
  std::string mac;       // "aa:bb:cc:dd:ee:ff" or empty
  std::string hostname;  // untrusted text: render as text, never HTML
  std::string vendor;
  Priority priority = Priority::Normal;
  bool manual = false;                       // an admin's priority holds until released
  std::optional<Priority> pending_priority;  // a demotion waiting for hysteresis
  int pending_ticks = 0;                     // ticks the pending proposal has held
  int pending_ticks_needed = 0;              // ticks it must hold to take effect
  uint64_t up_bytes_total = 0;               // cumulative, device -> router
  uint64_t down_bytes_total = 0;             // cumulative, router -> device
  double up_bits_per_sec = 0;                // current rate (last tick)
  double down_bits_per_sec = 0;
  uint64_t up_limit_bits_per_sec = 0;  // 0 = unlimited
  uint64_t down_limit_bits_per_sec = 0;
  uint64_t blocked_drops = 0;
  uint64_t horizon_drops = 0;
  int64_t first_seen_ms = 0;  // ms since the Unix epoch, UTC
  int64_t last_seen_ms = 0;
  bool active = false;  // seen in traffic in the last 5 minutes
};

// The original system's /api/metrics, plus nothing: same keys.
struct MetricsView {
  int total_devices = 0;
  int active_devices = 0;
  int blocked_devices = 0;
  double avg_bytes_per_sample = 0;
  double throughput_mbps = 0;
  std::optional<double> delay_ms;  // absent: no gateway or no reply yet
  std::optional<double> packet_loss_percent;
  double congestion_percent = 0;
};

// The process's capabilities after the start-up drop (agent/runtime/
// privileges.h): restricted stays false until the drop has been done.
struct PrivilegeView {
  bool restricted = false;
  std::vector<std::string> effective;  // kernel names, "cap_bpf" ...
  std::vector<std::string> permitted;
  std::vector<std::string> bounding;
  bool no_new_privs = false;
  std::string note;  // what could not be dropped or was never held
};

struct HealthView {
  DatapathStatus datapath;
  PrivilegeView privileges;
  bool db_ok = true;
  std::string db_error;
  int64_t last_tick_ms = 0;
  uint64_t ticks = 0;
  uint64_t pending_db_ticks = 0;  // ticks waiting to be written after a DB error
};

struct Snapshot {
  uint64_t tick = 0;  // increases by one per published snapshot
  int64_t ts_ms = 0;
  bool auto_mode = true;
  std::vector<DeviceView> devices;  // sorted by IP
  MetricsView metrics;
  HealthView health;
};

struct UsageRow {
  IpAddress ip;
  int64_t ts_ms = 0;
  uint64_t down_bytes = 0;  // router -> device in that sample
  uint64_t up_bytes = 0;    // device -> router
};

struct HistoryPoint {
  int64_t ts_ms = 0;  // sample time or bucket start
  uint64_t down_bytes = 0;
  uint64_t up_bytes = 0;
};

struct BlockedEntry {
  IpAddress ip;
  std::string reason;
  int64_t ts_ms = 0;
};

struct ConfigEntry {
  std::string key;       // "section.key", as `--set section.key=value` takes it
  std::string value;     // as it would be written in the TOML file
  bool runtime = false;  // changeable while running (through update_config)
};

}  // namespace bwalloc
