// PcapDatapath with a fake pcap library and a recording runner: frames
// handed to the capture thread are counted per device, the shaper's
// commands run in order, a failed run is rebuilt on the next change, and
// stop tears everything down.
#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "agent/fallback/pcap_datapath.h"
#include "agent/fallback/tc_shaper.h"
#include "tests/bpf/packet_builder.h"

namespace bwalloc {
namespace {

using test::build_packet;

IpAddress ip(const char* text) { return IpAddress::parse(text).value(); }

// How long a wait for the capture thread may take before the test fails:
// long, so a loaded machine never fails a test; the waits end at the event.
constexpr std::chrono::seconds kPatience{120};

// One fake capture at a time (the pcap table holds plain function pointers).
// The capture thread and the test share every field under `mutex`; `changed`
// wakes a test waiting for the capture thread to open, dispatch or fail.
struct FakePcap {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::vector<uint8_t>> frames;
  bool broken = false;
  bool activate_fails = false;
  int datalink = kPcapDltEthernet;
  int snaplen = 0;
  int opened = 0;
  int closed = 0;
  unsigned drops = 0;
  uint64_t dispatches = 0;         // dispatch calls that returned, their frames counted
  uint64_t failed_dispatches = 0;  // dispatch calls that reported the interface down

  // Waits (under `lock`) until `done`; false after kPatience.
  template <class Done>
  bool wait(std::unique_lock<std::mutex>& lock, Done done) {
    return changed.wait_for(lock, kPatience, done);
  }
};
FakePcap* fake = nullptr;
int handle_token = 0;

PcapApi fake_api() {
  PcapApi api;
  api.create = [](const char*, char*) -> PcapHandle { return &handle_token; };
  api.set_snaplen = [](PcapHandle, int s) {
    std::lock_guard lock(fake->mutex);
    fake->snaplen = s;
    return 0;
  };
  api.activate = [](PcapHandle) {
    int result = 0;
    {
      std::lock_guard lock(fake->mutex);
      ++fake->opened;
      result = fake->activate_fails || fake->broken ? -1 : 0;  // a gone interface cannot be opened
    }
    fake->changed.notify_all();
    return result;
  };
  api.datalink = [](PcapHandle) {
    std::lock_guard lock(fake->mutex);
    return fake->datalink;
  };
  api.dispatch = [](PcapHandle, int, PcapCallback callback, unsigned char* user) {
    std::deque<std::vector<uint8_t>> batch;
    size_t snaplen = 0;
    {
      std::unique_lock lock(fake->mutex);
      if (fake->broken) {
        ++fake->failed_dispatches;
        lock.unlock();
        fake->changed.notify_all();
        return -1;
      }
      // A real capture waits for packets up to its timeout; so does this
      // one, woken by the next frame (or by the end of the timeout).
      fake->changed.wait_for(lock, std::chrono::milliseconds(5), [] { return !fake->frames.empty(); });
      batch.swap(fake->frames);
      snaplen = static_cast<size_t>(fake->snaplen);
    }
    for (const auto& f : batch) {
      std::vector<uint8_t> captured(f.begin(), f.begin() + static_cast<long>(std::min(f.size(), snaplen)));
      PcapPacketHeader header{{0, 0}, static_cast<uint32_t>(captured.size()), static_cast<uint32_t>(f.size())};
      callback(user, &header, captured.data());
    }
    {
      std::lock_guard lock(fake->mutex);
      ++fake->dispatches;
    }
    fake->changed.notify_all();
    return static_cast<int>(batch.size());
  };
  api.breakloop = [](PcapHandle) {};
  api.stats = [](PcapHandle, PcapStat* s) {
    std::lock_guard lock(fake->mutex);
    s->ps_drop = fake->drops;
    s->ps_ifdrop = 0;
    return 0;
  };
  api.geterr = [](PcapHandle) -> char* {
    static char message[] = "the interface went down";
    return message;
  };
  api.close = [](PcapHandle) {
    std::lock_guard lock(fake->mutex);
    ++fake->closed;
  };
  api.lib_version = [] { return "fake pcap 1.0"; };
  return api;
}

struct Recorded {
  std::mutex mutex;
  std::vector<std::string> commands;
  std::string fail_containing;  // a command containing this fails
};

class RecordingRunner final : public CommandRunner {
 public:
  RecordingRunner(Recorded& recorded, bool dry_run) : CommandRunner(dry_run), recorded_(recorded) {}

 protected:
  Result<void> execute(const std::vector<std::string>& argv) override {
    std::lock_guard lock(recorded_.mutex);
    std::string text = Command{argv}.to_string();
    recorded_.commands.push_back(text);
    if (!recorded_.fail_containing.empty() && text.find(recorded_.fail_containing) != std::string::npos) {
      return Error{"RTNETLINK answers: File exists"};
    }
    return {};
  }

 private:
  Recorded& recorded_;
};

LanAddresses lan() {
  return LanAddresses{{make_lan_prefix(ip("10.10.0.1"), 24), make_lan_prefix(ip("fd00:10::1"), 64)},
                      {ip("10.10.0.1"), ip("fd00:10::1")}};
}

class PcapDatapathTest : public ::testing::Test {
 protected:
  void SetUp() override { fake = &pcap_; }
  void TearDown() override {
    datapath_.reset();
    fake = nullptr;
  }

  Result<std::unique_ptr<PcapDatapath>> open(bool dry_run = false) {
    TcShaperConfig tc;
    tc.priority_ports = {{6, 443}};
    auto shaper = TcShaper::create(tc);
    EXPECT_TRUE(shaper.ok());
    PcapDatapathOptions options;
    options.priority_ports = {{6, 443}};
    return PcapDatapath::open(
        fake_api(), options, [] { return Result<LanAddresses>(lan()); }, std::move(*shaper),
        std::make_unique<RecordingRunner>(recorded_, dry_run));
  }

  void feed(const std::vector<uint8_t>& frame) {
    {
      std::lock_guard lock(pcap_.mutex);
      pcap_.frames.push_back(frame);
    }
    pcap_.changed.notify_all();
  }

  // Waits until the capture thread has counted every queued frame: the
  // queue is empty, then one more dispatch returns (the one that took the
  // last frames may still be counting them when the queue empties).
  void drain() {
    std::unique_lock lock(pcap_.mutex);
    ASSERT_TRUE(pcap_.wait(lock, [&] { return pcap_.frames.empty(); })) << "the capture thread took no frames";
    const uint64_t seen = pcap_.dispatches;
    ASSERT_TRUE(pcap_.wait(lock, [&] { return pcap_.dispatches > seen; })) << "the capture thread stopped";
  }

  // Waits until the capture thread has seen the interface fail `n` times
  // in all, or opened it `n` times.
  void wait_failed_dispatches(uint64_t n) {
    std::unique_lock lock(pcap_.mutex);
    ASSERT_TRUE(pcap_.wait(lock, [&] { return pcap_.failed_dispatches >= n; }));
  }
  void wait_opened(int n) {
    std::unique_lock lock(pcap_.mutex);
    ASSERT_TRUE(pcap_.wait(lock, [&] { return pcap_.opened >= n; })) << "opened " << pcap_.opened << " times";
  }
  template <class Field>
  auto locked(Field field) {
    std::lock_guard lock(pcap_.mutex);
    return pcap_.*field;
  }

  std::vector<std::string> commands() {
    std::lock_guard lock(recorded_.mutex);
    return recorded_.commands;
  }

  FakePcap pcap_;
  Recorded recorded_;
  std::unique_ptr<PcapDatapath> datapath_;
};

TEST_F(PcapDatapathTest, CountsCapturedFramesPerDeviceAndDirection) {
  auto opened = open();
  ASSERT_TRUE(opened.ok()) << opened.message();
  datapath_ = std::move(*opened);
  EXPECT_EQ(locked(&FakePcap::snaplen), 128);
  auto up = build_packet({.src = "10.10.0.11", .dst = "198.51.100.2", .payload = 1400});
  auto down =
      build_packet({.src = "198.51.100.2", .dst = "10.10.0.11", .src_port = 443, .dst_port = 40000, .payload = 500});
  auto v6 = build_packet({.ipv6 = true, .src = "fd00:10::12", .dst = "fd00:51::2", .payload = 100});
  for (int i = 0; i < 10; ++i) feed(up);
  feed(down);
  feed(v6);
  feed(test::build_arp());
  auto truncated = up;
  truncated.resize(20);
  feed(truncated);
  drain();
  auto counters = datapath_->read_counters();
  ASSERT_TRUE(counters.ok());
  ASSERT_EQ(counters->size(), 2u);
  for (const auto& c : *counters) {
    if (c.address == ip("10.10.0.11")) {
      EXPECT_EQ(c.up_bytes, 10 * up.size());
      EXPECT_EQ(c.up_packets, 10u);
      EXPECT_EQ(c.down_bytes, down.size());
      EXPECT_EQ(c.down_priority_bytes, down.size());
    } else {
      EXPECT_EQ(c.address, ip("fd00:10::12"));
      EXPECT_EQ(c.up_bytes, v6.size());
    }
  }
  {
    std::lock_guard lock(pcap_.mutex);
    pcap_.drops = 7;
  }
  feed(up);
  drain();
  DatapathStatus s = datapath_->status();
  EXPECT_EQ(s.backend, Backend::Pcap);
  EXPECT_EQ(s.unparsed_packets, 1u);
  EXPECT_EQ(s.capture_drops, 7u);
  ASSERT_EQ(s.programs.size(), 1u);
  EXPECT_NE(s.programs[0].program.find("fake pcap 1.0"), std::string::npos);
  ASSERT_EQ(s.maps.size(), 1u);
  EXPECT_EQ(s.maps[0].used_entries, 2u);
}

TEST_F(PcapDatapathTest, OpenClearsLeftoversInstallsTheTreeAndStopRemovesIt) {
  auto opened = open();
  ASSERT_TRUE(opened.ok()) << opened.message();
  datapath_ = std::move(*opened);
  auto at_open = commands();
  ASSERT_GT(at_open.size(), 5u);
  EXPECT_EQ(at_open[0], "tc qdisc del dev lan0 root");
  EXPECT_EQ(at_open.back(),
            "tc filter add dev lan0 parent ffff: protocol all prio 1 u32 match u32 0 0 action mirred egress redirect "
            "dev bwalloc-ifb0");
  datapath_.reset();
  auto all = commands();
  ASSERT_EQ(all.size(), at_open.size() + 3);
  EXPECT_EQ(all[all.size() - 3], "tc qdisc del dev lan0 root");
  EXPECT_EQ(all.back(), "ip link del dev bwalloc-ifb0");
  EXPECT_EQ(locked(&FakePcap::closed), 1);
}

TEST_F(PcapDatapathTest, PoliciesAreMergedAppliedOnceAndRemoved) {
  auto opened = open();
  ASSERT_TRUE(opened.ok());
  datapath_ = std::move(*opened);
  const size_t base = commands().size();
  DevicePolicy a{ip("10.10.0.11"), Priority::Normal, 20'000'000, 20'000'000, false};
  DevicePolicy b{ip("10.10.0.12"), Priority::Blocked, 0, 0, false};
  ASSERT_TRUE(datapath_->apply_policies({a}).ok());
  ASSERT_TRUE(datapath_->apply_policies({b}).ok());  // a keeps its policy
  const size_t after = commands().size();
  EXPECT_EQ(after - base, 7u + 7u + 2u)
      << "a limited device: 3 classes, 2 leaves, 2 entries a side; a block: 1 entry a side";
  ASSERT_TRUE(datapath_->apply_policies({a, b}).ok());
  EXPECT_EQ(commands().size(), after) << "re-applying ran commands";
  ASSERT_TRUE(datapath_->remove_policy(ip("10.10.0.12")).ok());
  auto all = commands();
  ASSERT_EQ(all.size(), after + 2);
  EXPECT_EQ(all[after], "tc filter del dev lan0 parent 1: protocol ip prio 1000 handle 30:c:1 u32");
  ASSERT_TRUE(datapath_->remove_policy(ip("10.10.0.12")).ok());
  EXPECT_EQ(commands().size(), after + 2);
  DevicePolicy hostile{ip("10.10.0.13"), Priority::Normal, 1, 1, false};
  EXPECT_FALSE(datapath_->apply_policies({hostile}).ok());
  EXPECT_EQ(commands().size(), after + 2) << "a rejected policy must run nothing";
}

TEST_F(PcapDatapathTest, PortListsChangedAtRunTimeChangeTheCountsAndOnlyThePortFilters) {
  auto opened = open();
  ASSERT_TRUE(opened.ok());
  datapath_ = std::move(*opened);
  DevicePolicy a{ip("10.10.0.11"), Priority::Low, 5'000'000, 5'000'000, false};
  DevicePolicy b{ip("10.10.0.12"), Priority::Blocked, 0, 0, false};
  ASSERT_TRUE(datapath_->apply_policies({a, b}).ok());
  const size_t before = commands().size();
  DatapathConfig settings;
  settings.priority_ports = {{17, 53}};
  settings.unlimited_ports = {{6, 8443}};
  ASSERT_TRUE(datapath_->update_settings(settings).ok());
  auto all = commands();
  ASSERT_EQ(all.size(), before + 2 * (4 + 2 + 4)) << "per side: 4 unlimited filters, 2 deletions, 4 priority filters";
  for (size_t i = before; i < all.size(); ++i) {
    EXPECT_EQ(all[i].rfind("tc filter ", 0), 0u) << "only port filters change: " << all[i];
  }
  EXPECT_EQ(all[before],
            "tc filter add dev lan0 parent 1: protocol ip prio 10000 u32 match ip protocol 6 0xff match u8 "
            "0x05 0x0f at 0 match u16 0x0000 0x1fff at 6 match ip sport 8443 0xffff classid 1:2");

  auto https = build_packet({.src = "198.51.100.2", .dst = "10.10.0.11", .src_port = 443, .dst_port = 40000});
  auto unlimited = build_packet({.src = "10.10.0.11", .dst = "198.51.100.2", .src_port = 40000, .dst_port = 8443});
  feed(https);
  feed(unlimited);
  drain();
  auto counters = datapath_->read_counters();
  ASSERT_TRUE(counters.ok());
  bool found = false;
  for (const auto& c : *counters) {
    if (c.address != ip("10.10.0.11")) continue;
    found = true;
    EXPECT_EQ(c.down_bytes, https.size());
    EXPECT_EQ(c.down_priority_bytes, 0u) << "443 is no priority port any more";
    EXPECT_EQ(c.up_unlimited_bytes, unlimited.size());
    EXPECT_EQ(c.up_priority_bytes, 0u);
  }
  EXPECT_TRUE(found);

  DatapathConfig hostile;
  hostile.unlimited_ports = {{6, 0}};
  EXPECT_FALSE(datapath_->update_settings(hostile).ok());
  EXPECT_EQ(commands().size(), all.size()) << "a refused list runs nothing";
}

TEST_F(PcapDatapathTest, AFailedRunIsRebuiltFromScratchOnTheNextChange) {
  auto opened = open();
  ASSERT_TRUE(opened.ok());
  datapath_ = std::move(*opened);
  {
    std::lock_guard lock(recorded_.mutex);
    recorded_.fail_containing = "10.10.0.11/32";
  }
  DevicePolicy a{ip("10.10.0.11"), Priority::Low, 5'000'000, 5'000'000, false};
  auto failed = datapath_->apply_policies({a});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("File exists"), std::string::npos) << failed.message();
  EXPECT_NE(datapath_->status().pacing_note.find("shaping failed"), std::string::npos);
  {
    std::lock_guard lock(recorded_.mutex);
    recorded_.fail_containing.clear();
    recorded_.commands.clear();
  }
  ASSERT_TRUE(datapath_->apply_policies({a}).ok());
  auto rebuilt = commands();
  ASSERT_FALSE(rebuilt.empty());
  EXPECT_EQ(rebuilt[0], "tc qdisc del dev lan0 root");
  EXPECT_NE(std::find(rebuilt.begin(), rebuilt.end(),
                      "tc filter add dev lan0 parent 1: protocol ip prio 20000 handle 80:b:1 u32 ht 80:b: match ip dst "
                      "10.10.0.11/32 classid 1:8001"),
            rebuilt.end());
  EXPECT_EQ(datapath_->status().pacing_note.find("failed"), std::string::npos);
}

TEST_F(PcapDatapathTest, CaptureErrorsAreReportedAndTheCaptureReopens) {
  auto opened = open();
  ASSERT_TRUE(opened.ok());
  datapath_ = std::move(*opened);
  {
    std::lock_guard lock(pcap_.mutex);
    pcap_.broken = true;
  }
  // The capture thread records the failure before it tries to open the
  // interface again (which fails while it is gone).
  wait_opened(2);
  EXPECT_NE(datapath_->status().pacing_note.find("went down"), std::string::npos) << datapath_->status().pacing_note;
  {
    std::lock_guard lock(pcap_.mutex);
    pcap_.broken = false;
  }
  feed(build_packet({.src = "10.10.0.11"}));
  drain();
  EXPECT_EQ(datapath_->read_counters()->size(), 1u);
  EXPECT_EQ(datapath_->status().pacing_note.find("went down"), std::string::npos);
}

TEST_F(PcapDatapathTest, OpenFailsClearlyWithoutACapture) {
  pcap_.activate_fails = true;
  auto opened = open();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("cannot capture on lan0"), std::string::npos) << opened.message();
  pcap_.activate_fails = false;
  pcap_.datalink = 113;  // Linux cooked capture
  opened = open();
  ASSERT_FALSE(opened.ok());
  EXPECT_NE(opened.message().find("not an Ethernet interface"), std::string::npos);
  EXPECT_TRUE(commands().empty()) << "nothing may be installed when the capture cannot open";
}

TEST_F(PcapDatapathTest, DryRunRunsNoCommand) {
  auto opened = open(true);
  ASSERT_TRUE(opened.ok());
  datapath_ = std::move(*opened);
  ASSERT_TRUE(datapath_->apply_policies({{ip("10.10.0.11"), Priority::Blocked, 0, 0, false}}).ok());
  datapath_.reset();
  EXPECT_TRUE(commands().empty());
}

}  // namespace
}  // namespace bwalloc
