// The Snapshot from the tick thread's state; see snapshot_builder.h.
#include "agent/runtime/snapshot_builder.h"

#include <algorithm>

#include "agent/core/policy_rates.h"
#include "agent/metrics/traffic_metrics.h"

namespace bwalloc {

Snapshot build_snapshot(SnapshotInputs in) {
  Snapshot snap;
  snap.tick = in.ticks;
  snap.ts_ms = in.now_ms;
  snap.auto_mode = in.config.allocator.auto_mode;
  int low = 0, blocked = 0, active = 0;
  for (const auto& [ip, d] : in.devices) {
    DeviceView v;
    v.ip = ip;
    v.mac = d.mac;
    v.hostname = d.hostname;
    v.vendor = d.vendor;
    v.priority = d.alloc.priority;
    v.manual = d.alloc.manual;
    v.pending_priority = d.alloc.pending;
    v.pending_ticks = d.alloc.pending_ticks;
    v.pending_ticks_needed = in.config.allocator.demotion_ticks;
    v.up_bytes_total = d.up_total;
    v.down_bytes_total = d.down_total;
    v.up_bits_per_sec = d.up_rate;
    v.down_bits_per_sec = d.down_rate;
    const uint64_t limit = rate_for(d.alloc.priority, in.config.rates);
    v.up_limit_bits_per_sec = limit;
    v.down_limit_bits_per_sec = limit;
    v.blocked_drops = d.blocked_drops;
    v.horizon_drops = d.horizon_drops;
    v.first_seen_ms = d.first_seen_ms;
    v.last_seen_ms = d.last_seen_ms;
    v.active = is_active(d.last_seen_ms, snap.ts_ms);
    low += d.alloc.priority == Priority::Low;
    blocked += d.alloc.priority == Priority::Blocked;
    active += v.active;
    snap.devices.push_back(std::move(v));
  }
  std::sort(snap.devices.begin(), snap.devices.end(),
            [](const DeviceView& a, const DeviceView& b) { return a.ip < b.ip; });
  auto& m = snap.metrics;
  m.total_devices = static_cast<int>(in.devices.size());
  m.active_devices = active;
  m.blocked_devices = blocked;
  m.avg_bytes_per_sample = in.avg_bytes_per_sample;
  m.throughput_mbps = in.throughput_mbps;
  m.congestion_percent = congestion_percent(low, m.total_devices);
  if (in.gateway) {
    m.delay_ms = in.gateway->delay_ms;
    m.packet_loss_percent = in.gateway->loss_percent;
  }
  snap.health.datapath = std::move(in.datapath);
  snap.health.privileges = std::move(in.privileges);
  snap.health.db_ok = in.db_error.empty();
  snap.health.db_error = in.db_error;
  snap.health.last_tick_ms = snap.ts_ms;
  snap.health.ticks = in.ticks;
  snap.health.pending_db_ticks = in.pending_db_ticks;
  if (!in.datapath_error.empty()) snap.health.datapath.pacing_note += "; datapath error: " + in.datapath_error;
  return snap;
}

}  // namespace bwalloc
