// JSON shapes of the API (Boost.JSON), kept identical to the original
// system's where it had them: {devices:[{ip,mac,hostname,priority,last_seen}]}
// etc., with its types: `priority` a number (0 Blocked, 1 High, 2 Normal,
// 3 Low), `ts`/`last_seen` seconds since the epoch, throughput to 2 decimals
// and congestion to 1. Richer fields sit beside them under their own names
// (`priority_name`, `ts_iso`, `ts_ms`, `last_seen_iso`, ...).
// Text from devices, the database and admins goes out as valid UTF-8 (bad
// bytes become U+FFFD): one bad byte would make the whole body undecodable.
#pragma once

#include <boost/json.hpp>
#include <string>

#include "agent/api/agent_control.h"

namespace bwalloc {

std::string iso_time(int64_t ms);
boost::json::object device_json(const DeviceView& d);
boost::json::object metrics_json(const MetricsView& m);
boost::json::object health_json(const Snapshot& s);
boost::json::object event_json(const Event& e);
boost::json::object blocked_json(const BlockedEntry& b);
boost::json::object usage_json(const UsageRow& u);
boost::json::object history_json(const HistoryPoint& h);
// The SSE payload: {tick, ts_ms, auto, devices, metrics}.
std::string snapshot_json(const Snapshot& s);
// Prometheus text exposition format 0.0.4.
std::string prometheus_text(const Snapshot& s);

}  // namespace bwalloc
