// The key table; see config_keys.h. Each entry binds a key to one field.
#include "agent/config/config_keys.h"

#include <charconv>
#include <cstdio>

namespace bwalloc {

namespace {
// A TOML basic string. Control characters (other than tab) are escaped, so
// the rendered file always parses back (fuzz/config_fuzzer checks it).
std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04X", u);
      out += escaped;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// The shortest text that reads back as the same double (%g kept six digits,
// so 2.1234567 was saved as 2.12346).
std::string format_double(double d) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  return ec == std::errc{} ? std::string(buf, end) : std::to_string(d);
}

template <class T>
using Access = std::function<T&(Config&)>;

template <class T, class Convert, class Format>
ConfigKey make_key(std::string name, std::string description, bool runtime, Access<T> access, Convert convert,
                   Format format) {
  ConfigKey key;
  key.name = std::move(name);
  key.description = std::move(description);
  key.runtime = runtime;
  key.set = [access, convert](Config& c, const ConfigValue& v) -> Result<void> {
    auto converted = convert(v);
    if (!converted) return converted.error();
    access(c) = static_cast<T>(*converted);
    return {};
  };
  key.get = [access, format](const Config& c) { return format(access(const_cast<Config&>(c))); };
  return key;
}

ConfigKey string_key(std::string name, std::string desc, bool runtime, Access<std::string> access) {
  return make_key<std::string>(std::move(name), std::move(desc), runtime, access, as_string, quote);
}
ConfigKey bool_key(std::string name, std::string desc, bool runtime, Access<bool> access) {
  return make_key<bool>(std::move(name), std::move(desc), runtime, access, as_bool,
                        [](bool b) { return std::string(b ? "true" : "false"); });
}
template <class T>
ConfigKey int_key(std::string name, std::string desc, bool runtime, Access<T> access, int64_t min, int64_t max) {
  return make_key<T>(
      std::move(name), std::move(desc), runtime, access,
      [min, max](const ConfigValue& v) { return as_integer(v, min, max); }, [](T v) { return std::to_string(v); });
}
ConfigKey rate_key(std::string name, std::string desc, bool runtime, Access<uint64_t> access) {
  return make_key<uint64_t>(std::move(name), std::move(desc), runtime, access, as_rate_bits,
                            [](uint64_t v) { return quote(format_rate_bits(v)); });
}
ConfigKey ms_key(std::string name, std::string desc, bool runtime, Access<std::chrono::milliseconds> access) {
  return make_key<std::chrono::milliseconds>(std::move(name), std::move(desc), runtime, access, as_duration,
                                             [](std::chrono::milliseconds v) { return quote(format_duration(v)); });
}
ConfigKey seconds_key(std::string name, std::string desc, bool runtime, Access<std::chrono::seconds> access) {
  auto convert = [](const ConfigValue& v) -> Result<std::chrono::seconds> {
    auto d = as_duration(v);
    if (!d) return d.error();
    return std::chrono::duration_cast<std::chrono::seconds>(*d);
  };
  return make_key<std::chrono::seconds>(
      std::move(name), std::move(desc), runtime, access, convert,
      [](std::chrono::seconds v) { return quote(format_duration(std::chrono::milliseconds(v))); });
}
ConfigKey ns_key(std::string name, std::string desc, bool runtime, Access<uint64_t> access) {
  auto convert = [](const ConfigValue& v) -> Result<uint64_t> {
    auto d = as_duration(v);
    if (!d) return d.error();
    return static_cast<uint64_t>(d->count()) * 1'000'000ull;
  };
  return make_key<uint64_t>(std::move(name), std::move(desc), runtime, access, convert, [](uint64_t ns) {
    return quote(format_duration(std::chrono::milliseconds(ns / 1'000'000)));
  });
}

ConfigKey one_of_key(std::string name, std::string desc, bool runtime, Access<std::string> access,
                     std::vector<std::string> choices) {
  auto convert = [choices](const ConfigValue& v) -> Result<std::string> {
    auto s = as_string(v);
    if (!s) return s.error();
    for (const auto& c : choices) {
      if (*s == c) return *s;
    }
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "\"" : ", \"") + c + "\"";
    return Error{"expected one of " + list + ", found \"" + *s + "\""};
  };
  return make_key<std::string>(std::move(name), std::move(desc), runtime, access, convert, quote);
}

using PortListAccess = std::vector<ProtocolPort>& (*)(Config&);

// Port lists are kept as (protocol, port) pairs; the file lists them per protocol.
ConfigKey port_list_key(std::string name, std::string desc, uint8_t protocol, PortListAccess access) {
  ConfigKey key;
  key.name = std::move(name);
  key.description = std::move(desc);
  key.runtime = true;
  key.set = [protocol, access](Config& c, const ConfigValue& v) -> Result<void> {
    auto ports = as_port_list(v);
    if (!ports) return ports.error();
    auto& all = access(c);
    std::erase_if(all, [&](const ProtocolPort& p) { return p.protocol == protocol; });
    for (uint16_t port : *ports) all.push_back({protocol, port});
    return {};
  };
  key.get = [protocol, access](const Config& c) {
    std::string out = "[";
    for (const auto& p : access(const_cast<Config&>(c))) {
      if (p.protocol != protocol) continue;
      out += (out.size() > 1 ? ", " : "") + std::to_string(p.port);
    }
    return out + "]";
  };
  return key;
}

std::string ingress_mode_name(IngressAttachMode mode) {
  switch (mode) {
    case IngressAttachMode::Auto:
      return "auto";
    case IngressAttachMode::XdpNative:
      return "xdp-native";
    case IngressAttachMode::XdpGeneric:
      return "xdp-generic";
    case IngressAttachMode::TcOnly:
      return "tc";
  }
  return "auto";
}

// A key whose TOML string names one value of an enum: `values` in the order
// the error lists them, `name` the text each is written as.
template <class Enum, class Name>
ConfigKey enum_key(std::string key_name, std::string description, Enum& (*access)(Config&), std::vector<Enum> values,
                   Name name) {
  ConfigKey key;
  key.name = std::move(key_name);
  key.description = std::move(description);
  key.set = [access, values, name](Config& c, const ConfigValue& v) -> Result<void> {
    auto s = as_string(v);
    if (!s) return s.error();
    std::string list;
    for (Enum value : values) {
      if (*s == name(value)) {
        access(c) = value;
        return {};
      }
      list += (list.empty() ? "\"" : ", \"") + std::string(name(value)) + "\"";
    }
    return Error{"expected one of " + list + ", found \"" + *s + "\""};
  };
  key.get = [access, name](const Config& c) { return quote(std::string(name(access(const_cast<Config&>(c))))); };
  return key;
}

ConfigKey ingress_mode_key() {
  return enum_key<IngressAttachMode>(
      "datapath.ingress_mode",
      "how LAN ingress is counted: \"auto\" (XDP native where the driver has it, except veth; else tc), "
      "\"xdp-native\", "
      "\"xdp-generic\" or \"tc\"",
      [](Config& c) -> IngressAttachMode& { return c.datapath.ingress_mode; },
      {IngressAttachMode::Auto, IngressAttachMode::XdpNative, IngressAttachMode::XdpGeneric, IngressAttachMode::TcOnly},
      ingress_mode_name);
}

ConfigKey backend_key() {
  return enum_key<BackendChoice>(
      "agent.backend",
      "datapath backend: \"auto\" (eBPF, falling back to pcap when eBPF cannot be loaded), \"ebpf\", "
      "\"pcap\" (libpcap counting, tc HTB shaping) or \"simulator\" (synthetic devices, for demos "
      "without root)",
      [](Config& c) -> BackendChoice& { return c.backend; },
      {BackendChoice::Auto, BackendChoice::Ebpf, BackendChoice::Pcap, BackendChoice::Simulator}, backend_choice_name);
}

std::vector<ConfigKey> build_keys() {
  std::vector<ConfigKey> k;
  k.push_back(backend_key());
  k.push_back(int_key<int>(
      "agent.simulated_devices", "devices the simulator backend makes up", false,
      [](Config& c) -> int& { return c.simulated_devices; }, 1, 65536));
  k.push_back(bool_key("agent.dry_run", "decide and log priorities but never write them to the datapath", true,
                       [](Config& c) -> bool& { return c.dry_run; }));
  k.push_back(one_of_key("agent.log_level", "\"debug\", \"info\", \"warn\" or \"error\"", true,
                         [](Config& c) -> std::string& { return c.log_level; }, {"debug", "info", "warn", "error"}));

  k.push_back(string_key("datapath.lan_interface", "interface facing the LAN devices", false,
                         [](Config& c) -> std::string& { return c.datapath.lan_interface; }));
  k.push_back(string_key("datapath.wan_interface",
                         "uplink interface (upload is shaped there, after NAT); \"\" for none", false,
                         [](Config& c) -> std::string& { return c.datapath.wan_interface; }));
  k.push_back(ingress_mode_key());
  k.push_back(string_key("datapath.pin_dir", "bpffs directory holding the pinned maps and links", false,
                         [](Config& c) -> std::string& { return c.datapath.pin_dir; }));
  k.push_back(string_key("datapath.state_dir", "directory for the instance lock and what detach must undo", false,
                         [](Config& c) -> std::string& { return c.datapath.state_dir; }));
  k.push_back(int_key<uint32_t>(
      "datapath.max_devices",
      "devices the policy map holds (limits and blocks); more are still counted and forwarded, reported as "
      "devices_over_capacity in /health",
      false, [](Config& c) -> uint32_t& { return c.datapath.max_devices; }, 16, 1'048'576));
  k.push_back(ns_key("datapath.horizon",
                     "longest a paced packet may wait beyond its own transmission time before it is dropped", true,
                     [](Config& c) -> uint64_t& { return c.datapath.horizon_ns; }));
  k.push_back(ns_key("datapath.ce_target", "queueing delay above which ECN-capable packets get CE", true,
                     [](Config& c) -> uint64_t& { return c.datapath.ce_target_ns; }));
  k.push_back(ns_key("datapath.policer_burst",
                     "without fq (no pacing) the limiter polices with this burst instead of the horizon", true,
                     [](Config& c) -> uint64_t& { return c.datapath.policer_burst_ns; }));
  k.push_back(
      bool_key("datapath.ecn", "mark ECN CE above ce_target", true, [](Config& c) -> bool& { return c.datapath.ecn; }));
  k.push_back(bool_key("datapath.install_fq",
                       "install fq (mq+fq) on shaped interfaces so EDT paces instead of policing", false,
                       [](Config& c) -> bool& { return c.datapath.install_fq; }));
  auto priority = [](Config& c) -> std::vector<ProtocolPort>& { return c.datapath.priority_ports; };
  auto unlimited = [](Config& c) -> std::vector<ProtocolPort>& { return c.datapath.unlimited_ports; };
  k.push_back(port_list_key(
      "datapath.priority_tcp_ports",
      "TCP ports sent first while their flow is sparse (counted against the limit like every byte)", 6, priority));
  k.push_back(port_list_key(
      "datapath.priority_udp_ports",
      "UDP ports sent first while their flow is sparse (counted against the limit like every byte)", 17, priority));
  k.push_back(port_list_key("datapath.unlimited_tcp_ports",
                            "TCP ports never limited, only counted: a way around every limit (empty by default)", 6,
                            unlimited));
  k.push_back(port_list_key("datapath.unlimited_udp_ports",
                            "UDP ports never limited, only counted: a way around every limit (empty by default)", 17,
                            unlimited));
  k.push_back(bool_key("datapath.shaper_dry_run",
                       "pcap backend: log the tc commands instead of running them (counting still runs)", false,
                       [](Config& c) -> bool& { return c.datapath.shaper_dry_run; }));

  k.push_back(ms_key("allocator.tick", "how often counters are read and priorities decided", false,
                     [](Config& c) -> std::chrono::milliseconds& { return c.allocator.tick; }));
  k.push_back(int_key<int>(
      "allocator.window_samples", "samples kept per device for the spike rule", false,
      [](Config& c) -> int& { return c.allocator.window_samples; }, 5, 1000));
  k.push_back(rate_key("allocator.high_below", "a device whose newest rate is below this is High", true,
                       [](Config& c) -> uint64_t& { return c.allocator.high_below_bits_per_sec; }));
  k.push_back(rate_key("allocator.low_above", "a device whose newest rate is above this is Low", true,
                       [](Config& c) -> uint64_t& { return c.allocator.low_above_bits_per_sec; }));
  k.push_back(make_key<double>(
      "allocator.spike_sigma", "spike rule: newest above mean + sigma * stddev of the earlier samples", true,
      [](Config& c) -> double& { return c.allocator.spike_sigma; },
      [](const ConfigValue& v) { return as_double(v, 0.5, 10); }, format_double));
  k.push_back(int_key<int>(
      "allocator.spike_min_samples", "samples (newest included) the spike rule needs", true,
      [](Config& c) -> int& { return c.allocator.spike_min_samples; }, 3, 1000));
  k.push_back(int_key<int>(
      "allocator.demotion_ticks", "ticks a demotion must hold before it takes effect", true,
      [](Config& c) -> int& { return c.allocator.demotion_ticks; }, 1, 1000));
  k.push_back(bool_key("allocator.auto_mode", "let the allocator change priorities (Smart Auto Mode)", true,
                       [](Config& c) -> bool& { return c.allocator.auto_mode; }));

  k.push_back(rate_key("rates.high", "rate of a High device, each direction", true,
                       [](Config& c) -> uint64_t& { return c.rates.high_bits_per_sec; }));
  k.push_back(rate_key("rates.normal", "rate of a Normal (or never classified) device, each direction", true,
                       [](Config& c) -> uint64_t& { return c.rates.normal_bits_per_sec; }));
  k.push_back(rate_key("rates.low", "rate of a Low device, each direction", true,
                       [](Config& c) -> uint64_t& { return c.rates.low_bits_per_sec; }));

  k.push_back(
      string_key("store.path", "SQLite database file", false, [](Config& c) -> std::string& { return c.store.path; }));
  k.push_back(seconds_key("store.raw_retention", "how long raw per-tick samples are kept", true,
                          [](Config& c) -> std::chrono::seconds& { return c.store.raw_retention; }));
  k.push_back(seconds_key("store.minute_retention", "how long minute rollups are kept", true,
                          [](Config& c) -> std::chrono::seconds& { return c.store.minute_retention; }));
  k.push_back(seconds_key("store.hour_retention", "how long hour rollups are kept", true,
                          [](Config& c) -> std::chrono::seconds& { return c.store.hour_retention; }));
  k.push_back(seconds_key("store.day_retention", "how long day rollups are kept", true,
                          [](Config& c) -> std::chrono::seconds& { return c.store.day_retention; }));

  k.push_back(string_key("http.bind", "address the dashboard and API listen on", false,
                         [](Config& c) -> std::string& { return c.http.bind; }));
  k.push_back(int_key<uint16_t>(
      "http.port", "port the dashboard and API listen on (0: any free port)", false,
      [](Config& c) -> uint16_t& { return c.http.port; }, 0, 65535));
  k.push_back(string_key("http.token_file", "file holding the API token (created 0600 at first start)", false,
                         [](Config& c) -> std::string& { return c.http.token_file; }));
  k.push_back(string_key("http.web_root", "directory of the dashboard's static files", false,
                         [](Config& c) -> std::string& { return c.http.web_root; }));
  k.push_back(make_key<std::vector<std::string>>(
      "http.allowed_hosts", "extra Host names accepted besides localhost and the bind address", false,
      [](Config& c) -> std::vector<std::string>& { return c.http.allowed_hosts; }, as_string_list,
      [](const std::vector<std::string>& v) {
        std::string out = "[";
        for (const auto& s : v) out += (out.size() > 1 ? ", " : "") + quote(s);
        return out + "]";
      }));

  k.push_back(string_key("discovery.dnsmasq_leases", "dnsmasq lease file for device names (\"\": none)", false,
                         [](Config& c) -> std::string& { return c.discovery.dnsmasq_leases; }));
  k.push_back(string_key("discovery.oui_file", "IEEE OUI list for vendors (Debian's ieee-data)", false,
                         [](Config& c) -> std::string& { return c.discovery.oui_file; }));
  k.push_back(bool_key("discovery.reverse_dns", "look up device names by reverse DNS (off the tick thread)", false,
                       [](Config& c) -> bool& { return c.discovery.reverse_dns; }));

  k.push_back(string_key("metrics.gateway", "address probed for delay and loss (\"\": the default route's gateway)",
                         false, [](Config& c) -> std::string& { return c.metrics.gateway; }));
  k.push_back(ms_key("metrics.probe_interval", "time between ICMP echoes to the gateway", false,
                     [](Config& c) -> std::chrono::milliseconds& { return c.metrics.probe_interval; }));
  return k;
}
}  // namespace

const std::vector<ConfigKey>& config_keys() {
  static const std::vector<ConfigKey> keys = build_keys();
  return keys;
}

const ConfigKey* find_config_key(const std::string& name) {
  for (const auto& key : config_keys()) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

const char* renamed_config_key(const std::string& old_name) {
  // "exempt" read as "unlimited" voided every limit (most bulk traffic is
  // HTTPS or QUIC on 443); the same lists now mean "sent first, counted".
  static const std::pair<const char*, const char*> renamed[] = {
      {"datapath.exempt_tcp_ports", "datapath.priority_tcp_ports"},
      {"datapath.exempt_udp_ports", "datapath.priority_udp_ports"},
  };
  for (const auto& [from, to] : renamed) {
    if (old_name == from) return to;
  }
  return nullptr;
}

}  // namespace bwalloc
