// Pins under attack (issue 7, item 2), through the real binary: a pin of the
// wrong layout is replaced with a warning and never trusted, a pin directory
// owned by another user stops the agent with a clear message, and `bwalloc
// detach` refuses while an agent runs, then removes only bwalloc's programs,
// filters, qdiscs and pins (a foreign XDP program and tc filter stay) and
// succeeds again when run a second time.
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "bwalloc_maps.h"
#include "tests/net/reliability_support.h"

namespace bwalloc {
namespace {

using test::AgentSandbox;
using test::run_command;
using test::run_in;
using test::SpawnedAgent;

class ReliabilityPins : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    box_.clear();
    std::filesystem::create_directories(box_.work);
    lan_.emplace(box_.prefix, 1);
    ASSERT_TRUE(lan_->ok()) << lan_->error();
  }
  void TearDown() override {
    agent_.reset();
    if (lan_) detach();
    lan_.reset();
    box_.clear();
  }
  test::CommandResult detach() {
    std::vector<std::string> argv = {BWALLOC_BINARY, "detach"};
    auto options = box_.options();
    argv.insert(argv.end(), options.begin(), options.end());
    return run_command(argv);
  }

  AgentSandbox box_ = AgentSandbox::named("p");
  std::optional<test::VirtualLan> lan_;
  std::unique_ptr<SpawnedAgent> agent_;
};

TEST_F(ReliabilityPins, WrongLayoutPinIsReplacedWithAWarningNeverTrusted) {
  std::filesystem::create_directories(box_.pin_dir);
  std::filesystem::permissions(box_.pin_dir, std::filesystem::perms::owner_all);
  // Same name and type as the policy map, value 8 bytes instead of 24.
  int fd = bpf_map_create(BPF_MAP_TYPE_HASH, "bwa_policy", sizeof(bwa_addr), 8, 16, nullptr);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(bpf_obj_pin(fd, (box_.pin_dir + "/bwa_policy").c_str()), 0);
  close(fd);

  agent_ = std::make_unique<SpawnedAgent>(box_, box_.work + "/agent.log");
  ASSERT_TRUE(agent_->wait_for_port()) << agent_->log();
  EXPECT_NE(agent_->log().find("pinned map " + box_.pin_dir + "/bwa_policy does not match this build"),
            std::string::npos)
      << agent_->log();
  int pinned = bpf_obj_get((box_.pin_dir + "/bwa_policy").c_str());
  ASSERT_GE(pinned, 0);
  bpf_map_info info{};
  uint32_t len = sizeof info;
  ASSERT_EQ(bpf_obj_get_info_by_fd(pinned, &info, &len), 0);
  close(pinned);
  EXPECT_EQ(info.value_size, sizeof(bwa_policy)) << "the wrong-layout pin was trusted";
  EXPECT_EQ(
      run_in(lan_->device_ns(1), test::ping_until_answered(2, test::VirtualLan::kInetIpv4, {"-i", "0.1"})).exit_code,
      0);
}

TEST_F(ReliabilityPins, PinDirectoryOwnedByAnotherUserStopsTheAgent) {
  std::filesystem::create_directories(box_.pin_dir);
  ASSERT_EQ(chown(box_.pin_dir.c_str(), 65534, 65534), 0);
  // Both the explicit eBPF backend and the default "auto" (which must not
  // fall back to pcap over a warning sign like this) refuse.
  for (std::vector<std::string> settings :
       {std::vector<std::string>{"agent.backend=\"ebpf\""}, std::vector<std::string>{}}) {
    agent_ = std::make_unique<SpawnedAgent>(box_, box_.work + "/agent.log", settings);
    ASSERT_TRUE(test::wait_until([&] { return agent_->exited(); })) << "the agent ran with a foreign pin directory:\n"
                                                                    << agent_->log();
    EXPECT_NE(agent_->exit_code(), 0);
    EXPECT_NE(agent_->log().find("is owned by uid 65534"), std::string::npos) << agent_->log();
    EXPECT_TRUE(test::our_hooks(lan_->router_ns(), "lan0").empty()) << "it attached before refusing";
    EXPECT_EQ(agent_->log().find("falling back to pcap"), std::string::npos) << agent_->log();
    agent_.reset();
  }
}

TEST_F(ReliabilityPins, DetachRefusesWhileRunningAndRemovesOnlyItsOwn) {
  const std::string foreign = BWALLOC_FOREIGN_BPF_OBJECT;
  const std::string rtr = lan_->router_ns();
  std::vector<std::string> iproute2_dirs;  // iproute2 makes these on first use; remove them if we made them
  for (const char* dir : {"/sys/fs/bpf/tc", "/sys/fs/bpf/xdp", "/sys/fs/bpf/ip"}) {
    if (!std::filesystem::exists(dir)) iproute2_dirs.push_back(dir);
  }
  struct RemoveOnExit {
    std::vector<std::string>& dirs;
    ~RemoveOnExit() {
      for (const auto& d : dirs) std::filesystem::remove_all(d);
    }
  } cleanup{iproute2_dirs};
  ASSERT_EQ(run_in(rtr, {"ip", "link", "set", "dev", "lan0", "xdpgeneric", "obj", foreign, "sec", "xdp"}).exit_code, 0);
  ASSERT_EQ(run_in(rtr, {"tc", "qdisc", "add", "dev", "wan0", "clsact"}).exit_code, 0);
  ASSERT_EQ(run_in(rtr, {"tc", "filter", "add", "dev", "wan0", "egress", "prio", "7", "bpf", "da", "obj", foreign,
                         "sec", "tc"})
                .exit_code,
            0);

  agent_ = std::make_unique<SpawnedAgent>(box_, box_.work + "/agent.log");
  ASSERT_TRUE(agent_->wait_for_port()) << agent_->log();
  auto refused = detach();
  EXPECT_NE(refused.exit_code, 0) << "detach ran under a live agent: " << refused.output;
  EXPECT_NE(refused.output.find("an agent is running"), std::string::npos) << refused.output;
  EXPECT_FALSE(test::our_hooks(rtr, "lan0").empty()) << "a refused detach removed programs";

  agent_->kill9();
  auto first = detach();
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_TRUE(test::our_hooks(rtr, "lan0").empty());
  EXPECT_TRUE(test::our_hooks(rtr, "wan0").empty());
  EXPECT_FALSE(std::filesystem::exists(box_.pin_dir)) << "pins left behind";
  EXPECT_NE(run_in(rtr, {"ip", "-d", "link", "show", "dev", "lan0"}).output.find("foreign_xdp"), std::string::npos)
      << "the foreign XDP program was removed";
  EXPECT_NE(run_in(rtr, {"tc", "filter", "show", "dev", "wan0", "egress"}).output.find("foreign_tc"), std::string::npos)
      << "the foreign tc filter was removed";
  EXPECT_EQ(run_in(rtr, {"tc", "qdisc", "show", "dev", "lan0"}).output.find("clsact"), std::string::npos)
      << "the clsact bwalloc created on lan0 stayed";
  EXPECT_NE(run_in(rtr, {"tc", "qdisc", "show", "dev", "wan0"}).output.find("clsact"), std::string::npos)
      << "the foreign tool's clsact on wan0 was removed";
  auto second = detach();
  EXPECT_EQ(second.exit_code, 0) << "a second detach must succeed: " << second.output;
  run_in(rtr, {"ip", "link", "set", "dev", "lan0", "xdpgeneric", "off"});
}

}  // namespace
}  // namespace bwalloc
