// Agent cost: time and memory of one tick at 1,000 and 65,536 devices: the
// batch read of a real, filled kernel counter map, the sampler and the
// allocator, and the SQLite write of the tick. Prints per-stage medians and
// the process's peak RSS growth; the target is a 65,536-device tick under
// 100 ms and 128 MB.
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "agent/api/clock.h"
#include "agent/core/allocator.h"
#include "agent/core/sampler.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/store/sqlite_store.h"
#include "tests/fakes/fake_clock.h"
#include "bwalloc.skel.h"

using namespace bwalloc;
using Wall = std::chrono::steady_clock;

namespace {
long peak_rss_kb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

double ms_since(Wall::time_point start) {
  return std::chrono::duration<double, std::milli>(Wall::now() - start).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
}  // namespace

int main(int argc, char** argv) {
  if (geteuid() != 0) {
    std::fprintf(stderr, "agent_tick_cost: needs root (BPF maps)\n");
    return 1;
  }
  const std::string out_dir = argc > 1 ? argv[1] : "bench/results";
  libbpf_set_print([](enum libbpf_print_level, const char*, va_list) { return 0; });
  std::string md =
      "| devices | batch read ms | sampler + allocator ms | SQLite write ms | tick ms | peak RSS growth MB |\n"
      "|---|---|---|---|---|---|\n";
  std::string json = "[";
  for (int devices : {1000, 65536}) {
    long rss_before = peak_rss_kb();
    auto* skel = bwalloc_bpf__open();
    bpf_map__set_max_entries(skel->maps.bwa_counters, 65536);
    if (!skel || bwalloc_bpf__load(skel) != 0) {
      std::fprintf(stderr, "cannot load bwalloc's programs\n");
      return 1;
    }
    int fd = bpf_map__fd(skel->maps.bwa_counters);
    int cpus = libbpf_num_possible_cpus();
    std::vector<bwa_counters> values(cpus);
    auto fill = [&](uint64_t bytes) {
      for (int i = 0; i < devices; ++i) {
        bwa_addr key{};
        key.bytes[10] = key.bytes[11] = 0xff;
        uint32_t v4 = htonl(0x0a000000u + static_cast<uint32_t>(i));
        std::memcpy(&key.bytes[12], &v4, 4);
        for (auto& v : values) v.bytes[0] = v.bytes[1] = bytes + static_cast<uint64_t>(i % 97) * 1000;
        bpf_map_update_elem(fd, &key, values.data(), BPF_ANY);
      }
    };
    const std::string db_path = "/tmp/bwalloc-bench-" + std::to_string(getpid()) + ".db";
    std::filesystem::remove(db_path);
    auto store = SqliteStore::open(db_path);
    if (!store) {
      std::fprintf(stderr, "%s\n", store.message().c_str());
      return 1;
    }
    FakeClock clock;
    AllocatorConfig config;
    Sampler sampler(10, std::chrono::milliseconds(1000), std::chrono::minutes(10));
    std::unordered_map<IpAddress, AllocatorState> states;
    std::vector<double> read_ms, logic_ms, write_ms, tick_ms;
    for (int tick = 0; tick < 12; ++tick) {
      fill(static_cast<uint64_t>(tick) * 100'000);  // every device moves every tick: the worst case
      clock.advance(std::chrono::seconds(1));
      auto t0 = Wall::now();
      auto counters = read_all_counters(fd, 0);
      double read = ms_since(t0);
      auto t1 = Wall::now();
      auto samples = sampler.update(*counters, clock.mono_now());
      auto result = allocate(sampler.windows(), std::move(states), config, clock);
      states = std::move(result.states);
      double logic = ms_since(t1);
      auto t2 = Wall::now();
      TickRecord record;
      record.ts_ms = 1'800'000'000'000 + tick * 1000;
      for (const auto& s : samples) record.samples.push_back(UsageSample{s.ip, s.down_bytes, s.up_bytes});
      record.events = std::move(result.events);
      if (auto w = (*store)->write_tick(record); !w) std::fprintf(stderr, "write: %s\n", w.message().c_str());
      double write = ms_since(t2);
      if (tick >= 2) {  // the first ticks set baselines
        read_ms.push_back(read);
        logic_ms.push_back(logic);
        write_ms.push_back(write);
        tick_ms.push_back(read + logic + write);
      }
    }
    double rss_mb = static_cast<double>(peak_rss_kb() - rss_before) / 1024.0;
    char line[256];
    std::snprintf(line, sizeof line, "| %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", devices, median(read_ms),
                  median(logic_ms), median(write_ms), median(tick_ms), rss_mb);
    md += line;
    std::snprintf(line, sizeof line,
                  "%s{\"devices\":%d,\"read_ms\":%.2f,\"logic_ms\":%.2f,\"write_ms\":%.2f,\"tick_ms\":%.2f,\"rss_"
                  "growth_mb\":%.1f}",
                  json.size() > 1 ? "," : "", devices, median(read_ms), median(logic_ms), median(write_ms),
                  median(tick_ms), rss_mb);
    json += line;
    store->reset();
    std::filesystem::remove(db_path);
    std::filesystem::remove(db_path + "-wal");
    std::filesystem::remove(db_path + "-shm");
    bwalloc_bpf__destroy(skel);
  }
  json += "]\n";
  std::fputs(md.c_str(), stdout);
  std::ofstream(out_dir + "/agent_tick_cost.md") << md;
  std::ofstream(out_dir + "/agent_tick_cost.json") << json;
  return 0;
}
