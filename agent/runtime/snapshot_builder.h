// build_snapshot: the Snapshot the HTTP side reads, made from the tick
// thread's state. Pure: the datapath's status and the gateway's health are
// read by the caller (on the tick thread, in the datapath's namespace).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "agent/api/agent_views.h"
#include "agent/config/config.h"
#include "agent/metrics/gateway_prober.h"
#include "agent/runtime/device_state.h"

namespace bwalloc {

struct SnapshotInputs {
  const std::unordered_map<IpAddress, DeviceState>& devices;
  const Config& config;
  uint64_t ticks = 0;
  int64_t now_ms = 0;
  double avg_bytes_per_sample = 0;
  double throughput_mbps = 0;
  std::optional<GatewayHealth> gateway;  // absent: no prober
  DatapathStatus datapath;
  std::string datapath_error;  // the last failed datapath call, "" = none
  PrivilegeView privileges;
  std::string db_error;  // "" = writes work
  uint64_t pending_db_ticks = 0;
};

Snapshot build_snapshot(SnapshotInputs inputs);

}  // namespace bwalloc
