// Reliability test helpers; see reliability_support.h.
#include "tests/net/reliability_support.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sqlite3.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>

#include "agent/common/ip_address.h"
#include "bwalloc_maps.h"

#ifndef BWALLOC_BINARY
#error "BWALLOC_BINARY must name the bwalloc executable"
#endif

namespace bwalloc::test {

AgentSandbox AgentSandbox::named(const std::string& tag) {
  return AgentSandbox{"bwrl" + tag + "-", "/tmp/bwrl" + tag, "/sys/fs/bpf/bwrl" + tag, "/run/bwrl" + tag};
}

std::vector<std::string> AgentSandbox::options(const std::vector<std::string>& extra_sets) const {
  std::vector<std::string> o = {"--netns", prefix + "rtr",
                                "--set",   "datapath.pin_dir=\"" + pin_dir + "\"",
                                "--set",   "datapath.state_dir=\"" + state_dir + "\"",
                                "--set",   "store.path=\"" + db() + "\"",
                                "--set",   "http.port=0",
                                "--set",   "http.token_file=\"" + token_file() + "\"",
                                "--set",   "discovery.reverse_dns=false"};
  for (const auto& s : extra_sets) {
    o.push_back("--set");
    o.push_back(s);
  }
  return o;
}

void AgentSandbox::clear() const {
  std::error_code ignored;
  std::filesystem::remove_all(pin_dir, ignored);
  std::filesystem::remove_all(state_dir, ignored);
  std::filesystem::remove_all(work, ignored);
}

namespace {
std::vector<std::string> run_command_line(const AgentSandbox& box, const std::vector<std::string>& extra_sets) {
  std::vector<std::string> args = {BWALLOC_BINARY, "run"};
  auto options = box.options(extra_sets);
  args.insert(args.end(), options.begin(), options.end());
  return args;
}
}  // namespace

SpawnedAgent::SpawnedAgent(const AgentSandbox& box, const std::string& log, const std::vector<std::string>& extra_sets)
    : log_(log), process_(run_command_line(box, extra_sets), SpawnOptions{.output_file = log}) {}

std::optional<int> SpawnedAgent::wait_for_port(std::chrono::milliseconds patience) {
  std::optional<int> port;
  wait_until(
      [&] {
        port = announced_api_port(read_text(log_));
        return port || exited();
      },
      patience, std::chrono::milliseconds(10));
  return port;
}

boost::json::object get_json(int port, const std::string& path) {
  auto out = run_command({"curl", "-s", "--max-time", kCurlMaxTime, "http://127.0.0.1:" + std::to_string(port) + path});
  boost::system::error_code ec;
  auto v = boost::json::parse(out.output, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

int post_json(int port, const std::string& path, const std::string& body, const std::string& token) {
  auto out =
      run_command({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", kCurlMaxTime, "-X", "POST",
                   "-H", "Content-Type: application/json", "-H", "Authorization: Bearer " + token, "-H",
                   "X-Requested-With: bwalloc", "--data", body, "http://127.0.0.1:" + std::to_string(port) + path});
  try {
    return std::stoi(out.output);
  } catch (...) {
    return 0;
  }
}

boost::json::object api_device(int port, const std::string& ip) {
  auto devices = get_json(port, "/api/devices");
  if (!devices.contains("devices")) return {};
  for (const auto& d : devices["devices"].as_array()) {
    if (d.as_object().at("ip").as_string() == ip) return d.as_object();
  }
  return {};
}

std::vector<std::vector<int64_t>> sql_rows(const std::string& db_path, const std::string& sql) {
  std::vector<std::vector<int64_t>> rows;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(db);
    return rows;
  }
  // The agent writes meanwhile: wait out its locks (a hang detector, not a deadline).
  sqlite3_busy_timeout(db, 60'000);
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK) {
    while (sqlite3_step(stmt) == SQLITE_ROW) {
      std::vector<int64_t> row;
      for (int i = 0; i < sqlite3_column_count(stmt); ++i) row.push_back(sqlite3_column_int64(stmt, i));
      rows.push_back(std::move(row));
    }
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

int64_t sql_int(const std::string& db_path, const std::string& sql) {
  auto rows = sql_rows(db_path, sql);
  return rows.empty() || rows[0].empty() ? -1 : rows[0][0];
}

namespace {
bwa_addr key_of(const std::string& ip) {
  bwa_addr key{};
  auto parsed = IpAddress::parse(ip).value();
  std::memcpy(key.bytes, parsed.bytes().data(), 16);
  return key;
}
}  // namespace

std::optional<PinnedCounters> pinned_counters(const std::string& pin_dir, const std::string& ip) {
  int fd = bpf_obj_get((pin_dir + "/bwa_counters").c_str());
  if (fd < 0) return std::nullopt;
  int cpus = libbpf_num_possible_cpus();
  std::vector<bwa_counters> per_cpu(static_cast<size_t>(cpus));
  bwa_addr key = key_of(ip);
  PinnedCounters sum;
  if (bpf_map_lookup_elem(fd, &key, per_cpu.data()) == 0) {
    for (const auto& c : per_cpu) {
      sum.up_bytes += c.bytes[BWA_DIR_UP];
      sum.down_bytes += c.bytes[BWA_DIR_DOWN];
      sum.up_packets += c.packets[BWA_DIR_UP];
      sum.down_packets += c.packets[BWA_DIR_DOWN];
      sum.blocked_drops += c.blocked_drops[BWA_DIR_UP] + c.blocked_drops[BWA_DIR_DOWN];
    }
  }
  close(fd);
  return sum;
}

std::optional<PinnedPolicy> pinned_policy(const std::string& pin_dir, const std::string& ip) {
  int fd = bpf_obj_get((pin_dir + "/bwa_policy").c_str());
  if (fd < 0) return std::nullopt;
  bwa_addr key = key_of(ip);
  bwa_policy value{};
  int found = bpf_map_lookup_elem(fd, &key, &value);
  close(fd);
  if (found != 0) return std::nullopt;
  return PinnedPolicy{value.rate_bytes_per_sec[BWA_DIR_UP], value.rate_bytes_per_sec[BWA_DIR_DOWN], value.priority,
                      value.flags, value.slot};
}

std::optional<uint32_t> pinned_map_entries(const std::string& pin, uint32_t key_size) {
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) return std::nullopt;
  std::vector<uint8_t> key(key_size), next(key_size);
  uint32_t n = 0;
  void* prev = nullptr;
  while (bpf_map_get_next_key(fd, prev, next.data()) == 0) {
    ++n;
    key = next;
    prev = key.data();
  }
  close(fd);
  return n;
}

bool install_echo_probe(const std::string& ns, const std::string& ifname, int ip_length, const std::string& scratch) {
  {
    std::ofstream rules(scratch);
    rules << "table netdev bwrl_probe {\n chain probe {\n  type filter hook ingress device \"" << ifname
          << "\" priority 0;\n  icmp type echo-request ip length " << ip_length << " counter\n }\n}\n";
  }
  bool ok = run_in(ns, {"nft", "-f", scratch}).exit_code == 0;
  std::filesystem::remove(scratch);
  return ok;
}

std::optional<uint64_t> echo_probe_packets(const std::string& ns) {
  auto out = run_in(ns, {"nft", "list", "table", "netdev", "bwrl_probe"});
  std::smatch m;
  static const std::regex re("counter packets ([0-9]+)");
  if (out.exit_code != 0 || !std::regex_search(out.output, m, re)) return std::nullopt;
  return std::stoull(m[1]);
}

std::vector<std::string> our_hooks(const std::string& ns, const std::string& ifname) {
  std::vector<std::string> hooks;
  auto link = run_in(ns, {"ip", "-d", "link", "show", "dev", ifname});
  if (link.exit_code != 0) return hooks;
  if (std::regex_search(link.output, std::regex("prog/xdp id [0-9]+ name bwa_")) ||
      std::regex_search(link.output, std::regex("xdp[a-z]* .*name bwa_"))) {
    hooks.push_back("xdp");
  }
  for (const char* direction : {"ingress", "egress"}) {
    auto filters = run_in(ns, {"tc", "filter", "show", "dev", ifname, direction});
    if (filters.output.find("bwa_") != std::string::npos) hooks.push_back(std::string("tc ") + direction);
  }
  return hooks;
}

std::vector<std::string> our_bpf_links() {
  std::vector<std::string> links;
  auto out = run_command({"bpftool", "-j", "link", "show"});
  boost::system::error_code ec;
  auto parsed = boost::json::parse(out.output, ec);
  if (ec || !parsed.is_array()) return links;
  for (const auto& l : parsed.as_array()) {
    const auto& o = l.as_object();
    if (!o.contains("prog_id")) continue;
    auto prog_id = static_cast<uint32_t>(o.at("prog_id").to_number<int64_t>());
    int fd = bpf_prog_get_fd_by_id(prog_id);
    if (fd < 0) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof info;
    bool ours = bpf_obj_get_info_by_fd(fd, &info, &len) == 0 && std::string(info.name).rfind("bwa_", 0) == 0;
    close(fd);
    if (!ours) continue;
    std::string ifindex = o.contains("ifindex") ? std::to_string(o.at("ifindex").to_number<int64_t>()) : "?";
    links.push_back("link " + std::to_string(o.at("id").to_number<int64_t>()) + " ifindex " + ifindex);
  }
  return links;
}

}  // namespace bwalloc::test
