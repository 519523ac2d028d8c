// JSON and Prometheus rendering; see json_views.h.
#include "agent/http/json_views.h"

#include <cmath>
#include <ctime>

#include "agent/common/utf8.h"

namespace bwalloc {

namespace json = boost::json;

std::string iso_time(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms % 1000));
  return out;
}

namespace {
json::string text(const std::string& s) { return json::string(repair_utf8(s)); }

// Whole seconds since the epoch, as the original's time.time() rows were read.
int64_t epoch_seconds(int64_t ms) { return ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000); }

double rounded(double v, double scale) { return std::round(v * scale) / scale; }

// A timestamp in its three forms: `name` seconds, `name_iso`, `name_ms`.
void put_time(json::object& o, const std::string& name, int64_t ms) {
  o[name] = epoch_seconds(ms);
  o[name + "_iso"] = iso_time(ms);
  o[name + "_ms"] = ms;
}
}  // namespace

json::object device_json(const DeviceView& d) {
  json::object o;
  o["ip"] = d.ip.to_string();
  o["mac"] = text(d.mac);
  o["hostname"] = text(d.hostname);
  o["vendor"] = text(d.vendor);
  o["priority"] = static_cast<int>(d.priority);
  o["priority_name"] = std::string(priority_name(d.priority));
  o["priority_level"] = static_cast<int>(d.priority);  // = priority; earlier bwalloc clients read it
  o["manual"] = d.manual;
  if (d.pending_priority) {
    o["pending"] = json::object{{"priority", static_cast<int>(*d.pending_priority)},
                                {"priority_name", std::string(priority_name(*d.pending_priority))},
                                {"ticks", d.pending_ticks},
                                {"needed", d.pending_ticks_needed}};
  } else {
    o["pending"] = nullptr;
  }
  put_time(o, "last_seen", d.last_seen_ms);  // 0: never seen in traffic
  put_time(o, "first_seen", d.first_seen_ms);
  o["up_bits_per_sec"] = d.up_bits_per_sec;
  o["down_bits_per_sec"] = d.down_bits_per_sec;
  o["up_limit_bits_per_sec"] = d.up_limit_bits_per_sec;
  o["down_limit_bits_per_sec"] = d.down_limit_bits_per_sec;
  o["up_bytes_total"] = d.up_bytes_total;
  o["down_bytes_total"] = d.down_bytes_total;
  o["blocked_drops"] = d.blocked_drops;
  o["horizon_drops"] = d.horizon_drops;
  o["active"] = d.active;
  return o;
}

json::object metrics_json(const MetricsView& m) {
  json::object o;
  o["total_devices"] = m.total_devices;
  o["active_devices"] = m.active_devices;
  o["blocked_devices"] = m.blocked_devices;
  o["avg_bytes_per_sample"] = m.avg_bytes_per_sample;
  o["throughput_mbps"] = rounded(m.throughput_mbps, 100);
  if (m.delay_ms)
    o["delay_ms"] = *m.delay_ms;
  else
    o["delay_ms"] = nullptr;
  if (m.packet_loss_percent)
    o["packet_loss_percent"] = *m.packet_loss_percent;
  else
    o["packet_loss_percent"] = nullptr;
  o["congestion_percent"] = rounded(m.congestion_percent, 10);
  return o;
}

json::object health_json(const Snapshot& s) {
  const auto& h = s.health;
  json::array programs;
  std::string xdp_mode = "none";
  for (const auto& p : h.datapath.programs) {
    programs.push_back(
        json::object{{"program", p.program}, {"interface", p.interface}, {"hook", p.hook}, {"id", p.program_id}});
    if (p.hook.rfind("xdp", 0) == 0) xdp_mode = p.hook;
  }
  json::array maps;
  for (const auto& m : h.datapath.maps) {
    maps.push_back(json::object{{"name", m.name}, {"max_entries", m.max_entries}, {"used_entries", m.used_entries}});
  }
  json::object o;
  json::array interfaces;
  bool interfaces_ok = true;
  for (const auto& i : h.datapath.interfaces) {
    interfaces.push_back(
        json::object{{"role", i.role}, {"name", i.name}, {"ifindex", i.ifindex}, {"attached", i.attached}});
    interfaces_ok = interfaces_ok && i.attached;
  }
  o["ok"] = h.db_ok && interfaces_ok && (h.datapath.backend != Backend::Ebpf || !h.datapath.programs.empty());
  o["backend"] = std::string(backend_name(h.datapath.backend));
  o["programs"] = programs;
  o["xdp_mode"] = xdp_mode;
  o["interfaces"] = interfaces;
  o["interface_reattachments"] = h.datapath.interface_reattachments;
  o["devices_over_capacity"] = h.datapath.devices_over_capacity;
  o["maps"] = maps;
  o["pacing_active"] = h.datapath.pacing_active;
  o["pacing_note"] = h.datapath.pacing_note;
  o["db_ok"] = h.db_ok;
  o["db_error"] = h.db_error;
  o["pending_db_ticks"] = h.pending_db_ticks;
  o["ticks"] = h.ticks;
  o["last_tick"] = iso_time(h.last_tick_ms);
  o["unparsed_packets"] = h.datapath.unparsed_packets;
  o["counter_insert_failures"] = h.datapath.counter_insert_failures;
  // What the process may still do after its start-up drop; operators and the
  // privileges test read it here rather than in /proc.
  auto names = [](const std::vector<std::string>& caps) {
    json::array list;
    for (const auto& c : caps) list.push_back(json::string(c));
    return list;
  };
  const auto& p = h.privileges;
  o["capabilities"] = json::object{{"restricted", p.restricted},      {"effective", names(p.effective)},
                                   {"permitted", names(p.permitted)}, {"bounding", names(p.bounding)},
                                   {"no_new_privs", p.no_new_privs},  {"note", p.note}};
  return o;
}

json::object event_json(const Event& e) {
  int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.ts.time_since_epoch()).count();
  json::object o{{"level", std::string(event_level_name(e.level))},
                 {"message", text(e.message)},
                 {"actor", text(e.actor)},
                 {"ip", e.device ? e.device->to_string() : std::string()}};
  put_time(o, "ts", ms);
  return o;
}

json::object blocked_json(const BlockedEntry& b) {
  json::object o{{"ip", b.ip.to_string()}, {"reason", text(b.reason)}};
  put_time(o, "ts", b.ts_ms);
  return o;
}

json::object usage_json(const UsageRow& u) {
  json::object o{{"ip", u.ip.to_string()}, {"bytes_rx", u.down_bytes}, {"bytes_tx", u.up_bytes}};
  put_time(o, "ts", u.ts_ms);
  return o;
}

json::object history_json(const HistoryPoint& h) {
  json::object o{{"bytes_rx", h.down_bytes}, {"bytes_tx", h.up_bytes}};
  put_time(o, "ts", h.ts_ms);
  return o;
}

std::string snapshot_json(const Snapshot& s) {
  json::array devices;
  for (const auto& d : s.devices) devices.push_back(device_json(d));
  return json::serialize(json::object{{"tick", s.tick},
                                      {"ts_ms", s.ts_ms},
                                      {"auto", s.auto_mode},
                                      {"devices", devices},
                                      {"metrics", metrics_json(s.metrics)}});
}

namespace {
// Label values escape backslash, quote and newline (exposition format 0.0.4).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}
}  // namespace

std::string prometheus_text(const Snapshot& s) {
  std::string out;
  auto per_device = [&](const char* name, const char* type, const char* help, auto value) {
    family(out, name, type, help);
    for (const auto& d : s.devices) {
      out += std::string(name) + "{ip=\"" + label(d.ip.to_string()) + "\"} " + std::to_string(value(d)) + "\n";
    }
  };
  per_device("bwalloc_device_rx_bytes_total", "counter", "Bytes routed to the device.",
             [](const DeviceView& d) { return d.down_bytes_total; });
  per_device("bwalloc_device_tx_bytes_total", "counter", "Bytes routed from the device.",
             [](const DeviceView& d) { return d.up_bytes_total; });
  per_device("bwalloc_device_blocked_drops_total", "counter", "Packets dropped because the device is Blocked.",
             [](const DeviceView& d) { return d.blocked_drops; });
  per_device("bwalloc_device_horizon_drops_total", "counter", "Packets dropped by the pacer's horizon.",
             [](const DeviceView& d) { return d.horizon_drops; });
  per_device("bwalloc_device_priority", "gauge", "Priority level (0 Blocked, 1 High, 2 Normal, 3 Low).",
             [](const DeviceView& d) { return static_cast<int>(d.priority); });
  per_device("bwalloc_device_limit_bits_per_second", "gauge", "Enforced rate per direction (0 = unlimited).",
             [](const DeviceView& d) { return d.down_limit_bits_per_sec; });
  const auto& m = s.metrics;
  family(out, "bwalloc_devices", "gauge", "Devices known to the agent.");
  out += "bwalloc_devices " + std::to_string(m.total_devices) + "\n";
  family(out, "bwalloc_active_devices", "gauge", "Devices seen in the last 5 minutes.");
  out += "bwalloc_active_devices " + std::to_string(m.active_devices) + "\n";
  family(out, "bwalloc_throughput_mbps", "gauge", "Routed throughput over the last 5 s.");
  out += "bwalloc_throughput_mbps " + std::to_string(m.throughput_mbps) + "\n";
  family(out, "bwalloc_congestion_percent", "gauge", "Share of devices at Low.");
  out += "bwalloc_congestion_percent " + std::to_string(m.congestion_percent) + "\n";
  if (m.delay_ms) {
    family(out, "bwalloc_gateway_delay_ms", "gauge", "Mean ICMP echo RTT to the default gateway.");
    out += "bwalloc_gateway_delay_ms " + std::to_string(*m.delay_ms) + "\n";
  }
  if (m.packet_loss_percent) {
    family(out, "bwalloc_gateway_loss_percent", "gauge", "ICMP echo loss to the default gateway.");
    out += "bwalloc_gateway_loss_percent " + std::to_string(*m.packet_loss_percent) + "\n";
  }
  family(out, "bwalloc_datapath_programs_attached", "gauge", "BPF programs attached.");
  out += "bwalloc_datapath_programs_attached " + std::to_string(s.health.datapath.programs.size()) + "\n";
  family(out, "bwalloc_datapath_pacing_active", "gauge", "1 when fq honours EDT timestamps.");
  out += "bwalloc_datapath_pacing_active " + std::string(s.health.datapath.pacing_active ? "1" : "0") + "\n";
  family(out, "bwalloc_datapath_unparsed_packets_total", "counter", "Packets passed unparsed (fail open).");
  out += "bwalloc_datapath_unparsed_packets_total " + std::to_string(s.health.datapath.unparsed_packets) + "\n";
  family(out, "bwalloc_datapath_devices_over_capacity", "gauge",
         "Devices counted but neither limited nor blocked: the policy map is full (raise datapath.max_devices).");
  out += "bwalloc_datapath_devices_over_capacity " + std::to_string(s.health.datapath.devices_over_capacity) + "\n";
  family(out, "bwalloc_datapath_interface_reattachments_total", "counter",
         "Times a configured interface got the programs back (recreated, renamed back, programs removed).");
  out += "bwalloc_datapath_interface_reattachments_total " + std::to_string(s.health.datapath.interface_reattachments) +
         "\n";
  family(out, "bwalloc_db_ok", "gauge", "1 when the last database write succeeded.");
  out += "bwalloc_db_ok " + std::string(s.health.db_ok ? "1" : "0") + "\n";
  family(out, "bwalloc_ticks_total", "counter", "Ticks run.");
  out += "bwalloc_ticks_total " + std::to_string(s.health.ticks) + "\n";
  return out;
}

}  // namespace bwalloc
