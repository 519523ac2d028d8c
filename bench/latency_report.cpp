// See latency_report.h. Pure formatting of the figures a run measured.
#include "bench/latency_report.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <sstream>
#include <vector>

#include "bench/report_util.h"

namespace bwalloc::bench {
namespace {

namespace json = boost::json;

bool available(const json::object& method) {
  auto it = method.find("available");
  return it != method.end() && it->value().is_bool() && it->value().as_bool();
}

// "-" when a figure is missing (the method did not run, or its iperf3 failed).
std::string cell(const json::object& part, const char* key, int digits) {
  if (part.contains("error") || !part.contains(key)) return "-";
  return fixed(num(part, key), digits);
}

std::string delays_text(const json::object& run) {
  std::string text;
  if (run.contains("flow_extra_delays_ms")) {
    for (const auto& d : run.at("flow_extra_delays_ms").as_array()) {
      text += (text.empty() ? "+" : " / +") + fixed(d.to_number<double>(), 0);
    }
  }
  return text.empty() ? "" : text + " ms";
}

struct Row {
  std::string label;
  std::function<std::string(const json::object&)> value;
};

std::vector<Row> rows(const json::object& run) {
  const double limit = num(run, "limit_mbit");
  const double tcp_carry = num(run, "tcp_carry_mbit");
  auto ratio = [](double value, double base, int digits) {
    return base > 0 ? " (" + fixed(value / base, digits) + ")" : std::string();
  };
  return {
      {"idle RTT p50 ms", [](const json::object& m) { return cell(obj(m, "idle_ping"), "p50_ms", 2); }},
      {"bulk goodput Mbit/s (/ what TCP carries)",
       [=](const json::object& m) {
         const auto& b = obj(m, "bulk");
         if (b.contains("error") || !b.contains("goodput_mbit")) return std::string("-");
         return fixed(num(b, "goodput_mbit"), 3) + ratio(num(b, "goodput_mbit"), tcp_carry, 3);
       }},
      {"bulk retransmits", [](const json::object& m) { return cell(obj(m, "bulk"), "retransmits", 0); }},
      {"Jain's index, 4 bulk flows", [](const json::object& m) { return cell(obj(m, "bulk"), "jain_index", 3); }},
      {"per-flow goodput Mbit/s" + (delays_text(run).empty() ? "" : " (RTT " + delays_text(run) + ")"),
       [](const json::object& m) {
         const auto& b = obj(m, "bulk");
         if (!b.contains("flows") || b.at("flows").as_array().empty()) return std::string("-");
         // In the order of their client ports, which is that of their delays.
         std::string text;
         std::vector<const json::object*> sorted;
         for (const auto& f : b.at("flows").as_array()) sorted.push_back(&f.as_object());
         std::stable_sort(sorted.begin(), sorted.end(), [](const json::object* x, const json::object* y) {
           return num(*x, "client_port") < num(*y, "client_port");
         });
         for (const auto* f : sorted) text += (text.empty() ? "" : " / ") + fixed(num(*f, "goodput_mbit"), 2);
         return text;
       }},
      {"same-device ping p50 ms", [](const json::object& m) { return cell(obj(m, "same_device_ping"), "p50_ms", 2); }},
      {"same-device ping p99 ms", [](const json::object& m) { return cell(obj(m, "same_device_ping"), "p99_ms", 2); }},
      {"same-device ping loss",
       [](const json::object& m) {
         const auto& p = obj(m, "same_device_ping");
         if (!p.contains("sent")) return std::string("-");
         return fixed(num(p, "loss_percent"), 1) + " % (" + fixed(num(p, "received"), 0) + "/" +
                fixed(num(p, "sent"), 0) + ")";
       }},
      {"small UDP flow loss %", [](const json::object& m) { return cell(obj(m, "small_udp"), "loss_percent", 2); }},
      {"small UDP flow jitter ms", [](const json::object& m) { return cell(obj(m, "small_udp"), "jitter_ms", 2); }},
      {"other-device ping p50 / p99 ms",
       [](const json::object& m) {
         const auto& p = obj(m, "other_device_ping");
         if (!p.contains("p50_ms")) return std::string("-");
         return fixed(num(p, "p50_ms"), 2) + " / " + fixed(num(p, "p99_ms"), 2) +
                (num(p, "loss_percent") > 0 ? " (loss " + fixed(num(p, "loss_percent"), 1) + " %)" : "");
       }},
      {"TCP 443 goodput Mbit/s (/ limit)",
       [=](const json::object& m) {
         const auto& t = obj(m, "tcp443");
         if (!t.contains("goodput_mbit")) return std::string("-");
         return fixed(num(t, "goodput_mbit"), 3) + ratio(num(t, "goodput_mbit"), limit, 3);
       }},
      {"UDP 443 goodput Mbit/s (/ limit)",
       [=](const json::object& m) {
         const auto& u = obj(m, "udp443");
         if (!u.contains("goodput_mbit")) return std::string("-");
         return fixed(num(u, "goodput_mbit"), 3) + ratio(num(u, "goodput_mbit"), limit, 3);
       }},
  };
}

// A short label for the plots' x axis.
std::string short_name(const json::object& method) {
  std::string key = str(method, "key");
  if (key == "edt") return "bwalloc EDT";
  if (key.rfind("htb_", 0) == 0) return "HTB+" + key.substr(4);
  return key;
}

// A TOML literal from /api/config without its quotes ("\"20ms\"" -> "20ms").
std::string unquoted(const json::object& o, const char* key) {
  std::string value = str(o, key);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') value = value.substr(1, value.size() - 2);
  return value;
}

std::string title(const json::object& run) {
  std::string label = str(run, "kernel_label");
  return (label.empty() ? "" : label + ", ") + "kernel " + str(run, "kernel");
}

// Three panels: delays (log ms), shares (0..1) and port 443 goodput / limit (log).
bool plot(const json::object& run, const std::vector<const json::object*>& methods,
          const std::filesystem::path& out_dir, const std::string& name) {
  auto data = out_dir / (name + ".dat");
  std::ofstream dat(data);
  auto positive = [](double v, int digits) { return v > 0 ? fixed(v, digits) : std::string("NaN"); };
  dat << "# method idle_p50 same_p50 same_p99 other_p99 udp_jitter bulk_share jain ping_delivered udp_delivered "
         "tcp443 udp443\n";
  const double limit = num(run, "limit_mbit"), tcp_carry = num(run, "tcp_carry_mbit");
  for (const auto* m : methods) {
    const auto& same = obj(*m, "same_device_ping");
    const auto& udp = obj(*m, "small_udp");
    dat << "\"" << short_name(*m) << "\" " << positive(num(obj(*m, "idle_ping"), "p50_ms"), 3) << " "
        << positive(num(same, "p50_ms"), 3) << " " << positive(num(same, "p99_ms"), 3) << " "
        << positive(num(obj(*m, "other_device_ping"), "p99_ms"), 3) << " " << positive(num(udp, "jitter_ms"), 3) << " "
        << fixed(tcp_carry > 0 ? num(obj(*m, "bulk"), "goodput_mbit") / tcp_carry : 0, 4) << " "
        << fixed(num(obj(*m, "bulk"), "jain_index"), 4) << " "
        << fixed(same.contains("sent") ? 1 - num(same, "loss_percent") / 100 : 0, 4) << " "
        << fixed(udp.contains("packets") ? 1 - num(udp, "loss_percent") / 100 : 0, 4) << " "
        << positive(limit > 0 ? num(obj(*m, "tcp443"), "goodput_mbit") / limit : 0, 4) << " "
        << positive(limit > 0 ? num(obj(*m, "udp443"), "goodput_mbit") / limit : 0, 4) << "\n";
  }
  dat.close();
  auto script = out_dir / (name + ".gp");
  std::ofstream gp(script);
  const std::string d = "'" + data.string() + "'";
  gp << "set terminal pngcairo size 1500,520\nset output '" << (out_dir / (name + ".png")).string() << "'\n"
     << "set style data histograms\nset style histogram clustered gap 1\nset style fill solid 0.8\n"
     << "set grid ytics\nset key below vertical maxrows 3 font ',9'\nset xtics font ',10' noenhanced\n"
     << "set multiplot layout 1,3 title '" << title(run) << ": every device held at " << fixed(limit, 0)
     << " Mbit/s' noenhanced\n"
     << "set xrange [-0.6:" << methods.size() - 0.4 << "]\n"
     << "set title 'delay (ms, log scale)'\nset logscale y\nset yrange [0.01:*]\n"
     << "plot " << d << " using 2:xtic(1) title 'idle RTT p50', '' using 3 title 'same-device ping p50', "
     << "'' using 4 title 'same-device ping p99', '' using 5 title 'other-device ping p99', "
     << "'' using 6 title 'small UDP jitter'\n"
     << "unset logscale y\nset title 'shares (1 is best)'\nset yrange [0:1.25]\n"
     << "plot " << d << " using 7:xtic(1) title 'bulk goodput / what TCP carries', '' using 8 title 'Jain index', "
     << "'' using 9 title 'same-device pings answered', '' using 10 title 'small UDP delivered'\n"
     << "set title 'port 443 goodput / limit (log scale; 1 = held at the limit)'\nset logscale y\n"
     << "set yrange [0.1:*]\n"
     << "plot " << d << " using 11:xtic(1) title 'TCP 443', '' using 12 title 'UDP 443 ("
     << fixed(num(run, "udp443_offered_mbit"), 0) << " Mbit/s offered)'\n"
     << "unset multiplot\n";
  gp.close();
  bool ok = run_gnuplot(script);
  std::filesystem::remove(script);
  std::filesystem::remove(data);
  return ok;
}

}  // namespace

bool is_latency_run(const json::object& run) { return str(run, "scenario") == "latency"; }

std::string latency_markdown(const json::object& run, const std::filesystem::path& out_dir,
                             const std::string& png_name) {
  std::vector<const json::object*> methods;
  std::vector<std::string> unavailable;
  for (const auto& v : run.at("methods").as_array()) {
    const auto& m = v.as_object();
    if (available(m)) {
      methods.push_back(&m);
    } else {
      unavailable.push_back(str(m, "method") + " (" + str(m, "error").substr(0, 120) + ")");
    }
  }
  const double limit = num(run, "limit_mbit");
  std::ostringstream md;
  md << "## " << title(run) << "\n\n"
     << "Every device held at " << fixed(limit, 0) << " Mbit/s each way. dev1 downloads over 4 TCP flows ("
     << fixed(num(run, "seconds"), 0) << " s after "
     << fixed(run.contains("omit_seconds") ? num(run, "omit_seconds") : 1, 0) << " omitted";
  std::string delays = delays_text(run);
  md << (delays.empty() ? "; no netem here, so the flows share one RTT"
                        : "; netem in inet adds " + delays + " to the flows' RTTs")
     << ") while dev1 and dev2 each send " << fixed(num(run, "pings"), 0) << " pings "
     << fixed(num(run, "ping_interval_ms"), 0)
     << " ms apart and a 64 kbit/s flow of 160-byte UDP datagrams reaches dev1; then dev1 downloads from port "
        "443 over TCP (4 flows) and UDP ("
     << fixed(num(run, "udp443_offered_mbit"), 0) << " Mbit/s offered, " << fixed(num(run, "udp443_datagram_bytes"), 0)
     << "-byte datagrams). What TCP can carry at " << fixed(limit, 0)
     << " Mbit/s on the wire (1448 payload bytes per 1514-byte frame): " << fixed(num(run, "tcp_carry_mbit"), 3)
     << " Mbit/s; UDP 443: " << fixed(num(run, "udp443_carry_mbit"), 3) << " Mbit/s.\n\n";
  for (const auto* m : methods) {
    const auto& d = obj(*m, "details");
    if (str(*m, "key") == "edt") {
      md << "- " << str(*m, "method") << ": `allocator.auto_mode=false`, `rates.normal=" << fixed(limit, 0)
         << "Mbit`; fq pacing " << (d.contains("pacing_active") && d.at("pacing_active").as_bool() ? "on" : "off")
         << ", horizon " << unquoted(d, "datapath.horizon") << ", priority (counted, fast lane while sparse) TCP ports "
         << unquoted(d, "datapath.priority_tcp_ports") << ", UDP ports " << unquoted(d, "datapath.priority_udp_ports")
         << ", unlimited TCP ports " << unquoted(d, "datapath.unlimited_tcp_ports") << ", UDP ports "
         << unquoted(d, "datapath.unlimited_udp_ports") << ".\n";
    } else {
      md << "- " << str(*m, "method") << ": `bench/htb_per_device.sh`, class rate = ceil = " << fixed(limit, 0)
         << " Mbit/s per device, leaf " << str(d, "leaf") << ".\n";
    }
  }
  for (const auto& u : unavailable) md << "- not run here: " << u << "\n";
  for (const auto* m : methods) {
    const auto& b = obj(*m, "bulk");
    if (b.contains("load_outlasted_pings") && !b.at("load_outlasted_pings").as_bool()) {
      md << "- " << str(*m, "method") << ": the download ended before the pings did"
         << (b.contains("ping_seconds") ? " (they took " + fixed(num(b, "ping_seconds"), 1) + " s)" : "")
         << ", so some pings saw an idle device.\n";
    }
    if (b.contains("seconds") && num(b, "seconds") != num(run, "seconds")) {
      md << "- " << str(*m, "method") << ": the pings outlasted a " << fixed(num(run, "seconds"), 0)
         << " s download (ping woke late), so the phase ran once more with a " << fixed(num(b, "seconds"), 0)
         << " s one (the pings then took " << fixed(num(b, "ping_seconds"), 1) << " s).\n";
    }
    if (b.contains("saturated_before_pings") && !b.at("saturated_before_pings").as_bool()) {
      md << "- " << str(*m, "method")
         << ": the download had not reached 80 % of the limit when the pings "
            "started.\n";
    }
  }
  if (!str(run, "note").empty()) md << "- " << str(run, "note") << ".\n";
  if (str(run, "kernel_label").find("TCG") != std::string::npos) {
    md << "- Under TCG on a shared machine, timers fire late when the host is busy: every RTT grows (the "
          "other-device ping shows the VM's own jitter) and HTB, whose default burst is one MTU, falls below its "
          "rate. Compare methods within one run.\n";
  }
  md << "\n| figure |";
  for (const auto* m : methods) md << " " << str(*m, "method") << " |";
  md << "\n|---|";
  for (size_t i = 0; i < methods.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& row : rows(run)) {
    md << "| " << row.label << " |";
    for (const auto* m : methods) md << " " << row.value(*m) << " |";
    md << "\n";
  }
  md << "\nRun time: " << fixed(num(run, "elapsed_s"), 0) << " s.\n\n";
  if (!methods.empty() && plot(run, methods, out_dir, png_name)) {
    md << "![latency comparison](" << png_name << ".png)\n\n";
  }
  return md.str();
}

}  // namespace bwalloc::bench
