// Turns the JSON documents of shaping_bench runs (one per kernel: this
// machine's, Debian's in qemu) into bench/results/shaping.{json,md}, those
// of `shaping_bench --scenario latency` into
// bench/results/latency_compare.{json,md}, and PNG plots drawn by gnuplot.
// Pure formatting; the figures come from the runs.
//
// Usage: shaping_report OUT_DIR RUN.json [RUN.json ...]
#include <boost/json.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "bench/latency_report.h"
#include "bench/report_util.h"

namespace {

namespace json = boost::json;

using bwalloc::bench::fixed;
using bwalloc::bench::num;
using bwalloc::bench::run_gnuplot;
using bwalloc::bench::str;

std::string run_title(const json::object& run) {
  std::string label = str(run, "kernel_label");
  return (label.empty() ? "kernel " : label + ", kernel ") + str(run, "kernel") +
         (run.contains("pacing_active") && run.at("pacing_active").as_bool() ? " (fq: EDT paces)"
                                                                             : " (no fq: EDT polices)");
}

// Rate accuracy with EDT and HTB side by side, one row per rate and direction.
std::string accuracy_table(const json::object& run) {
  struct Pair {
    double edt = -1, htb = -1;
    bool path_limited = false;
  };
  std::map<std::pair<double, std::string>, Pair> rows;
  for (const auto& v : run.at("rate_accuracy").as_array()) {
    const auto& row = v.as_object();
    auto& pair = rows[{num(row, "limit_mbit"), str(row, "direction")}];
    (str(row, "method").rfind("bwalloc", 0) == 0 ? pair.edt : pair.htb) = num(row, "ratio");
    pair.path_limited = pair.path_limited || row.at("path_limited").as_bool();
  }
  std::ostringstream md;
  // Both limiters count whole Ethernet frames, so a full-size TCP segment
  // (1448 payload bytes with timestamps in a 1514-byte frame) carries at
  // most this share of the limit as goodput.
  constexpr double kTcpPayloadShare = 1448.0 / 1514.0;
  auto cell = [&](double ratio) {
    if (ratio < 0) return std::string("-");
    if (ratio == 0) return std::string("no result (iperf3 could not connect, twice)");
    return fixed(ratio, 4) + " (" + fixed(ratio / kTcpPayloadShare, 4) + ")";
  };
  md << "Each cell: TCP goodput / limit, and in brackets goodput / the most TCP can carry within that wire "
        "rate (limit x 1448/1514).\n\n"
     << "| limit Mbit/s | direction | bwalloc EDT | HTB script | note |\n"
     << "|---|---|---|---|---|\n";
  for (const auto& [key, pair] : rows) {
    md << "| " << fixed(key.first, 0) << " | " << key.second << " | " << cell(pair.edt) << " | " << cell(pair.htb)
       << " | " << (pair.path_limited ? "at or above what the path carries unshaped" : "") << " |\n";
  }
  return md.str();
}

std::string latency_table(const json::object& run) {
  std::ostringstream md;
  md << "| method | limit Mbit/s | saturating device p50 ms | p99 ms | replies/sent | idle device p50 ms | p99 ms |\n"
     << "|---|---|---|---|---|---|---|\n";
  double edt_p99 = 0, htb_p99 = 0;
  for (const auto& v : run.at("latency").as_array()) {
    const auto& row = v.as_object();
    if (!row.contains("loaded_p99_ms")) continue;
    bool edt = str(row, "method").rfind("bwalloc", 0) == 0;
    (edt ? edt_p99 : htb_p99) = num(row, "loaded_p99_ms");
    md << "| " << str(row, "method") << " | " << fixed(num(row, "limit_mbit"), 0) << " | "
       << fixed(num(row, "loaded_p50_ms"), 2) << " | " << fixed(num(row, "loaded_p99_ms"), 2) << " | "
       << fixed(num(row, "loaded_replies"), 0) << "/" << fixed(num(row, "pings_sent"), 0) << " | "
       << fixed(num(row, "idle_p50_ms"), 2) << " | " << fixed(num(row, "idle_p99_ms"), 2) << " |\n";
  }
  if (edt_p99 > 0 && htb_p99 > 0) {
    md << "\np99 RTT of the saturating device, HTB / bwalloc: **" << fixed(htb_p99 / edt_p99, 1)
       << "x** (target: at least 10x).\n";
  }
  return md.str();
}

std::string forwarding_table(const json::object& run) {
  std::ostringstream md;
  md << "| ingress hook | direction | without programs Mbit/s | with programs Mbit/s | ratio |\n"
     << "|---|---|---|---|---|\n";
  for (const auto& [hook, label] :
       {std::pair{"xdp", "XDP (forced on veth)"}, std::pair{"tc_only", "tc (auto on veth)"}}) {
    if (!run.at("forwarding").as_object().contains(hook)) continue;
    const auto& by_dir = run.at("forwarding").at(hook).as_object();
    for (const char* dir : {"upload", "download"}) {
      if (!by_dir.contains(dir)) continue;
      const auto& row = by_dir.at(dir).as_object();
      md << "| " << label << " | " << dir << " | " << fixed(num(row, "without_mbit"), 0) << " | "
         << fixed(num(row, "with_mbit"), 0) << " | " << fixed(num(row, "ratio"), 3) << " |\n";
    }
  }
  return md.str();
}

// One PNG per run: goodput/limit per rate for both methods and directions.
bool accuracy_plot(const json::object& run, const std::filesystem::path& out_dir, const std::string& name) {
  auto data = out_dir / (name + ".dat");
  std::ofstream dat(data);
  std::map<double, std::map<std::string, double>> by_rate;
  for (const auto& v : run.at("rate_accuracy").as_array()) {
    const auto& row = v.as_object();
    std::string series =
        (str(row, "method").rfind("bwalloc", 0) == 0 ? "EDT" : "HTB") + std::string(" ") + str(row, "direction");
    by_rate[num(row, "limit_mbit")][series] = num(row, "ratio");
  }
  const char* series[] = {"EDT download", "EDT upload", "HTB download", "HTB upload"};
  dat << "rate";
  for (const char* s : series) dat << " \"" << s << "\"";
  dat << "\n";
  for (const auto& [rate, values] : by_rate) {
    dat << fixed(rate, 0);
    for (const char* s : series) dat << " " << (values.count(s) ? fixed(values.at(s), 4) : "NaN");
    dat << "\n";
  }
  dat.close();
  auto script = out_dir / (name + ".gp");
  std::ofstream gp(script);
  gp << "set terminal pngcairo size 900,500\nset output '" << (out_dir / (name + ".png")).string() << "'\n"
     << "set title '" << run_title(run) << "' noenhanced\nset style data histograms\nset style fill solid 0.8\n"
     << "set ylabel 'TCP goodput / limit'\nset xlabel 'limit (Mbit/s)'\nset yrange [0:1.2]\nset grid ytics\n"
     << "set key outside right\n"
     << "plot for [i=2:5] '" << data.string() << "' using i:xtic(1) title columnheader(i)\n";
  gp.close();
  bool ok = run_gnuplot(script);
  std::filesystem::remove(script);
  std::filesystem::remove(data);
  return ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s OUT_DIR RUN.json [RUN.json ...]\n", argv[0]);
    return 2;
  }
  std::filesystem::path out_dir = argv[1];
  std::filesystem::create_directories(out_dir);
  json::array runs, latency_runs;
  std::ostringstream md, latency_md;
  md << "# Shaping bench (bench/shaping_bench)\n\n";
  latency_md << "# Latency under load: bwalloc against HTB + cake, fq_codel, pfifo (shaping_bench --scenario latency)"
                "\n\n";
  for (int i = 2; i < argc; ++i) {
    std::ifstream in(argv[i]);
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    auto doc = json::parse(text.str(), ec);
    if (ec || !doc.is_object()) {
      std::fprintf(stderr, "%s: not a shaping_bench result (%s)\n", argv[i], ec.message().c_str());
      return 1;
    }
    const auto& run = doc.as_object();
    if (bwalloc::bench::is_latency_run(run)) {
      latency_md << bwalloc::bench::latency_markdown(run, out_dir,
                                                     "latency_compare_" + std::to_string(latency_runs.size() + 1));
      latency_runs.push_back(doc);
      continue;
    }
    std::string name = "shaping_accuracy_" + std::to_string(runs.size() + 1);
    md << "## " << run_title(run) << "\n\n"
       << "Unshaped path: download " << fixed(num(run.at("unshaped_capacity_mbit").as_object(), "download"), 0)
       << " Mbit/s, upload " << fixed(num(run.at("unshaped_capacity_mbit").as_object(), "upload"), 0) << " Mbit/s; "
       << fixed(num(run, "flows"), 0) << " TCP flows per run, " << fixed(num(run, "seconds"), 0)
       << " s each (10 s at 1 Mbit/s), first second omitted.\n\n"
       << "### Rate accuracy\n\n"
       << accuracy_table(run) << "\n";
    if (accuracy_plot(run, out_dir, name)) md << "![rate accuracy](" << name << ".png)\n\n";
    md << "### Latency under load (pings every 50 ms while the device downloads at its limit)\n\n"
       << latency_table(run) << "\n### Forwarding overhead (no limit, counting only)\n\n"
       << forwarding_table(run) << "\n";
    runs.push_back(doc);
  }
  // Each kind of run keeps its own files, so running one kind leaves the other's results alone.
  if (!runs.empty()) {
    std::ofstream(out_dir / "shaping.json") << json::serialize(runs) << "\n";
    std::ofstream(out_dir / "shaping.md") << md.str();
    std::printf("%s", md.str().c_str());
  }
  if (!latency_runs.empty()) {
    std::ofstream(out_dir / "latency_compare.json") << json::serialize(latency_runs) << "\n";
    std::ofstream(out_dir / "latency_compare.md") << latency_md.str();
    std::printf("%s", latency_md.str().c_str());
  }
  return 0;
}
