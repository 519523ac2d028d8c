// EbpfDatapath attached for real inside the test's own namespaces:
//
//   bwdp-dev (eth0 10.199.77.2) -- lan0 [bwdp-rtr] wan0 -- (eth0 10.199.78.2) bwdp-inet
//
// The test thread enters bwdp-rtr (setns is per thread) and opens the
// datapath on lan0/wan0 with its own pin and state directories. Pings from
// bwdp-dev to bwdp-inet cross every hook: XDP/tc ingress on lan0, tc egress
// on wan0 and lan0. Checks: programs attached and pinned, counters move,
// Blocked stops the ping, a restart adopts the pins, detach leaves nothing of
// ours and everything of other tools'. Skips without root or BPF.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "agent/datapath/ebpf_attach.h"
#include "agent/datapath/ebpf_datapath.h"
#include "agent/datapath/ebpf_maps.h"
#include "agent/datapath/qdisc.h"
#include "agent/datapath/rtnetlink.h"

namespace bwalloc {
namespace {

constexpr const char* kRouterNs = "bwdp-rtr";
constexpr const char* kDeviceNs = "bwdp-dev";
constexpr const char* kInetNs = "bwdp-inet";
constexpr const char* kPinDir = "/sys/fs/bpf/bwdp-test";
constexpr const char* kDeviceIp = "10.199.77.2";
constexpr const char* kInetIp = "10.199.78.2";

// Runs argv without a shell; returns the exit code (output discarded).
int run(const std::vector<std::string>& argv) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    int null = ::open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The device reaches the internet side: all `count` echoes answered (ping
// waits for them, up to 120 s, however slow the machine).
bool ping_inet(int count) {
  return run({"ip", "netns", "exec", kDeviceNs, "ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.2", "-w",
              "120", kInetIp}) == 0;
}

// The device is cut off: no echo answered within a second of the last one
// (waiting longer could not turn a block into a pass).
bool cut_off(int count) {
  return run({"ip", "netns", "exec", kDeviceNs, "ping", "-n", "-q", "-c", std::to_string(count), "-i", "0.2", "-W", "1",
              kInetIp}) != 0;
}

void remove_namespaces() {
  for (const char* ns : {kDeviceNs, kInetNs, kRouterNs}) run({"ip", "netns", "del", ns});
}

// Pins are global (bpffs is not namespaced): remove ours by name only.
void remove_pins() {
  for (const char* name : kMapNames) unlink((std::string(kPinDir) + "/" + name).c_str());
  unlink((std::string(kPinDir) + "/link_xdp_lan").c_str());
  rmdir(kPinDir);
}

std::optional<std::string> namespace_test_blocker() {
  if (geteuid() != 0) return "needs root (network namespaces, BPF)";
  if (run({"ip", "-V"}) != 0) return "needs iproute2's ip";
  if (run({"ping", "-V"}) != 0) return "needs ping";
  return std::nullopt;
}

// A trivial program of another tool: returns `verdict`, named so bwalloc
// cannot mistake it for its own ("bwa_" prefix).
int load_foreign_program(bpf_prog_type type, int verdict) {
  bpf_insn insns[2]{};
  insns[0].code = BPF_ALU64 | BPF_MOV | BPF_K;
  insns[0].dst_reg = BPF_REG_0;
  insns[0].imm = verdict;
  insns[1].code = BPF_JMP | BPF_EXIT;
  return bpf_prog_load(type, "bwdp_foreign", "GPL", insns, 2, nullptr);
}

uint32_t program_id(int fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof info;
  return bpf_obj_get_info_by_fd(fd, &info, &len) == 0 ? info.id : 0;
}

bpf_tc_hook tc_hook(int ifindex, bpf_tc_attach_point point) {
  bpf_tc_hook hook{};
  hook.sz = sizeof hook;
  hook.ifindex = ifindex;
  hook.attach_point = point;
  return hook;
}

// Program id of the tc filter at handle/priority, 0 when there is none.
uint32_t tc_filter_id(int ifindex, bpf_tc_attach_point point, uint32_t handle, uint32_t priority) {
  bpf_tc_hook hook = tc_hook(ifindex, point);
  bpf_tc_opts opts{};
  opts.sz = sizeof opts;
  opts.handle = handle;
  opts.priority = priority;
  return bpf_tc_query(&hook, &opts) == 0 ? opts.prog_id : 0;
}

bool has_clsact(int ifindex) {
  auto rtnl = RtnlSocket::open();
  if (!rtnl) return false;
  NetlinkMessage message(RTM_GETQDISC, 0);
  tcmsg tc{};
  message.append_fixed(tc);
  bool found = false;
  (void)rtnl->dump(message, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWQDISC) return;
    auto* q = static_cast<const tcmsg*>(NLMSG_DATA(&h));
    if (q->tcm_ifindex == ifindex && q->tcm_parent == TC_H_CLSACT) found = true;
  });
  return found;
}

int ifindex(const char* name) { return static_cast<int>(if_nametoindex(name)); }

IpAddress device_ip() { return IpAddress::parse(kDeviceIp).value(); }

std::optional<DeviceCounters> counters_of(EbpfDatapath& dp, const IpAddress& address) {
  auto all = dp.read_counters();
  EXPECT_TRUE(all.ok()) << all.message();
  if (!all) return std::nullopt;
  for (const auto& c : *all) {
    if (c.address == address) return c;
  }
  return std::nullopt;
}

bool has_program(const DatapathStatus& status, const std::string& program, const std::string& iface,
                 const std::string& hook_prefix) {
  return std::any_of(status.programs.begin(), status.programs.end(), [&](const AttachedProgram& p) {
    return p.program == program && p.interface == iface && p.hook.rfind(hook_prefix, 0) == 0 && p.program_id != 0;
  });
}

std::string describe(const DatapathStatus& status) {
  std::string text = "note: " + status.pacing_note + "; programs:";
  for (const auto& p : status.programs) text += " " + p.program + "@" + p.interface + "/" + p.hook;
  return text;
}

class EbpfDatapathNs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = namespace_test_blocker()) GTEST_SKIP() << *blocker;
    // Leftovers of a killed earlier run go first.
    remove_namespaces();
    remove_pins();
    state_dir_ = "/tmp/bwdp-test-state-" + std::to_string(getpid());
    std::filesystem::remove_all(state_dir_);
    ASSERT_TRUE(build_topology()) << "could not build the test namespaces with ip(8)";

    original_ns_ = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    ASSERT_GE(original_ns_, 0);
    int router = ::open((std::string("/run/netns/") + kRouterNs).c_str(), O_RDONLY | O_CLOEXEC);
    ASSERT_GE(router, 0);
    int entered = setns(router, CLONE_NEWNET);
    ::close(router);
    ASSERT_EQ(entered, 0) << std::strerror(errno);
    lan_ = ifindex("lan0");
    wan_ = ifindex("wan0");
    ASSERT_GT(lan_, 0);
    ASSERT_GT(wan_, 0);

    // Probe: can this kernel load BPF at all?
    int probe = load_foreign_program(BPF_PROG_TYPE_XDP, XDP_PASS);
    if (probe < 0) GTEST_SKIP() << "this kernel refuses BPF programs: " << std::strerror(errno);
    ::close(probe);

    config_.lan_interface = "lan0";
    config_.wan_interface = "wan0";
    config_.pin_dir = kPinDir;
    config_.state_dir = state_dir_;
    config_.max_devices = 1024;
  }

  void TearDown() override {
    datapath_.reset();
    if (original_ns_ >= 0) {
      (void)detach_datapath(config_);  // still inside the router: only our own things
      setns(original_ns_, CLONE_NEWNET);
      ::close(original_ns_);
    }
    remove_namespaces();
    remove_pins();
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
  }

  static bool build_topology() {
    const std::vector<std::vector<std::string>> steps = {
        {"ip", "netns", "add", kRouterNs},
        {"ip", "netns", "add", kDeviceNs},
        {"ip", "netns", "add", kInetNs},
        {"ip", "-n", kRouterNs, "link", "add", "lan0", "type", "veth", "peer", "name", "eth0", "netns", kDeviceNs},
        {"ip", "-n", kRouterNs, "link", "add", "wan0", "type", "veth", "peer", "name", "eth0", "netns", kInetNs},
        {"ip", "-n", kRouterNs, "addr", "add", "10.199.77.1/24", "dev", "lan0"},
        {"ip", "-n", kRouterNs, "addr", "add", "10.199.78.1/24", "dev", "wan0"},
        {"ip", "-n", kDeviceNs, "addr", "add", std::string(kDeviceIp) + "/24", "dev", "eth0"},
        {"ip", "-n", kInetNs, "addr", "add", std::string(kInetIp) + "/24", "dev", "eth0"},
        {"ip", "-n", kRouterNs, "link", "set", "lan0", "up"},
        {"ip", "-n", kRouterNs, "link", "set", "wan0", "up"},
        {"ip", "-n", kRouterNs, "link", "set", "lo", "up"},
        {"ip", "-n", kDeviceNs, "link", "set", "eth0", "up"},
        {"ip", "-n", kDeviceNs, "link", "set", "lo", "up"},
        {"ip", "-n", kInetNs, "link", "set", "eth0", "up"},
        {"ip", "-n", kInetNs, "link", "set", "lo", "up"},
        {"ip", "-n", kDeviceNs, "route", "add", "default", "via", "10.199.77.1"},
        {"ip", "-n", kInetNs, "route", "add", "10.199.77.0/24", "via", "10.199.78.1"},
        {"ip", "netns", "exec", kRouterNs, "sysctl", "-qw", "net.ipv4.ip_forward=1"},
    };
    for (const auto& step : steps) {
      if (run(step) != 0) return false;
    }
    return true;
  }

  void open_datapath() {
    auto opened = EbpfDatapath::open(config_);
    ASSERT_TRUE(opened.ok()) << opened.message();
    datapath_ = std::move(*opened);
  }

  // After detach: nothing of ours on either interface, in bpffs or in the state dir.
  void expect_nothing_of_ours_left() {
    EXPECT_FALSE(std::filesystem::exists(kPinDir)) << "pins left behind";
    EXPECT_FALSE(std::filesystem::exists(state_dir_ + "/datapath.state"));
    XdpAttachment xdp = query_xdp(lan_);
    EXPECT_FALSE(xdp.attached && is_bwalloc_program(xdp.program_id)) << "our XDP program is still on lan0";
    EXPECT_EQ(query_tc(lan_, TcDirection::Ingress), 0u);
    EXPECT_EQ(query_tc(lan_, TcDirection::Egress), 0u);
    EXPECT_EQ(query_tc(wan_, TcDirection::Egress), 0u);
    auto rtnl = RtnlSocket::open();
    ASSERT_TRUE(rtnl.ok());
    for (int index : {lan_, wan_}) {
      auto root = read_root_qdisc(*rtnl, index);
      ASSERT_TRUE(root.ok()) << root.message();
      EXPECT_FALSE(root->has_value() && (*root)->kind == "fq") << "our fq is still the root qdisc";
    }
  }

  DatapathConfig config_;
  std::string state_dir_;
  int original_ns_ = -1;
  int lan_ = 0;
  int wan_ = 0;
  std::unique_ptr<EbpfDatapath> datapath_;
};

TEST_F(EbpfDatapathNs, AttachesCountsBlocksAndDetachesCleanly) {
  ASSERT_TRUE(ping_inet(1)) << "the topology does not route without the datapath";
  // "auto" leaves XDP off veth links (see AutoModeCountsWithTcOnVeth).
  config_.ingress_mode = IngressAttachMode::XdpNative;
  open_datapath();

  DatapathStatus status = datapath_->status();
  EXPECT_EQ(status.backend, Backend::Ebpf);
  EXPECT_TRUE(has_program(status, "bwa_xdp_ingress", "lan0", "xdp (")) << describe(status);
  EXPECT_TRUE(has_program(status, "bwa_tc_ingress", "lan0", "tc ingress")) << describe(status);
  EXPECT_TRUE(has_program(status, "bwa_tc_egress", "lan0", "tc egress")) << describe(status);
  EXPECT_TRUE(has_program(status, "bwa_tc_wan_egress", "wan0", "tc egress")) << describe(status);
  auto policy_map =
      std::find_if(status.maps.begin(), status.maps.end(), [](auto& m) { return m.name == "bwa_policy"; });
  ASSERT_NE(policy_map, status.maps.end());
  EXPECT_EQ(policy_map->max_entries, 1024u);  // resized from config.max_devices before load
  if (!status.pacing_active) {
    EXPECT_NE(status.pacing_note.find("policers"), std::string::npos) << status.pacing_note;
  }
  EXPECT_TRUE(has_clsact(lan_));
  EXPECT_TRUE(has_clsact(wan_));

  // Pins: directory 0700, pins 0600, the XDP link among them.
  struct stat st {};
  ASSERT_EQ(stat(kPinDir, &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  for (const std::string name : {"bwa_counters", "bwa_policy", "bwa_settings", "link_xdp_lan"}) {
    ASSERT_EQ(stat((std::string(kPinDir) + "/" + name).c_str(), &st), 0) << name;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << name;
  }
  ASSERT_EQ(stat((state_dir_ + "/datapath.state").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // Settings change at run time: the port map follows the configured ports.
  auto exempt_entries = [&] {
    for (const auto& m : datapath_->status().maps) {
      if (m.name == "bwa_ports") return m.used_entries;
    }
    return ~0u;
  };
  EXPECT_EQ(exempt_entries(), default_priority_ports().size());
  DatapathConfig changed = config_;
  changed.priority_ports = {ProtocolPort{17, 53}};
  ASSERT_TRUE(datapath_->update_settings(changed).ok());
  EXPECT_EQ(exempt_entries(), 1u);

  // Traffic is counted both ways.
  ASSERT_TRUE(ping_inet(3));
  auto seen = counters_of(*datapath_, device_ip());
  ASSERT_TRUE(seen.has_value()) << "no counters for " << kDeviceIp;
  EXPECT_GE(seen->up_packets, 3u);
  EXPECT_GE(seen->down_packets, 3u);
  EXPECT_GE(seen->up_bytes, 3u * 98u);  // an ICMP echo of 56 data bytes is 98 bytes on the wire
  EXPECT_GE(seen->down_bytes, 3u * 98u);

  // The pins tell `bwalloc status` the same story.
  auto pinned = read_pinned_status(config_);
  ASSERT_TRUE(pinned.ok()) << pinned.message();
  EXPECT_EQ(pinned->programs.size(), status.programs.size()) << describe(*pinned);

  // Blocked: nothing passes, drops are counted; unblocked: traffic flows again.
  DevicePolicy blocked{device_ip(), Priority::Blocked, 0, 0, false};
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());  // idempotent
  EXPECT_TRUE(cut_off(2)) << "a Blocked device's ping got through";
  auto after_block = counters_of(*datapath_, device_ip());
  ASSERT_TRUE(after_block.has_value());
  EXPECT_GE(after_block->blocked_drops, 2u);
  EXPECT_EQ(datapath_->status().maps[1].used_entries, 1u);

  DevicePolicy normal{device_ip(), Priority::Normal, 20'000'000, 20'000'000, false};
  ASSERT_TRUE(datapath_->apply_policies({normal}).ok());
  EXPECT_TRUE(ping_inet(2)) << "an unblocked device stays cut off";
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());
  ASSERT_TRUE(datapath_->remove_policy(device_ip()).ok());
  EXPECT_TRUE(ping_inet(2)) << "a removed policy still blocks";
  EXPECT_EQ(datapath_->status().maps[1].used_entries, 0u);

  // Detach removes everything of ours; a second detach finds nothing and succeeds.
  datapath_.reset();
  auto detached = detach_datapath(config_);
  ASSERT_TRUE(detached.ok()) << detached.message();
  expect_nothing_of_ours_left();
  EXPECT_FALSE(has_clsact(lan_)) << "the clsact we created is still on lan0";
  EXPECT_FALSE(has_clsact(wan_)) << "the clsact we created is still on wan0";
  auto again = detach_datapath(config_);
  EXPECT_TRUE(again.ok()) << again.message();
  EXPECT_TRUE(ping_inet(1));
}

TEST_F(EbpfDatapathNs, AutoModeCountsWithTcOnVeth) {
  // The test's LAN is a veth, whose XDP path costs more than tc: "auto"
  // leaves XDP off, says why, and tc ingress counts every packet instead.
  config_.ingress_mode = IngressAttachMode::Auto;
  open_datapath();
  DatapathStatus status = datapath_->status();
  EXPECT_FALSE(has_program(status, "bwa_xdp_ingress", "lan0", "xdp")) << describe(status);
  EXPECT_TRUE(has_program(status, "bwa_tc_ingress", "lan0", "tc ingress")) << describe(status);
  EXPECT_NE(status.pacing_note.find("veth"), std::string::npos) << status.pacing_note;
  EXPECT_FALSE(query_xdp(lan_).attached);

  ASSERT_TRUE(ping_inet(3));
  auto seen = counters_of(*datapath_, device_ip());
  ASSERT_TRUE(seen.has_value());
  EXPECT_GE(seen->up_packets, 3u);
  EXPECT_GE(seen->down_packets, 3u);
}

TEST_F(EbpfDatapathNs, ForeignXdpAndTcFiltersSurviveAndTcIngressCounts) {
  // Another tool's XDP program (legacy netlink attach) and tc filter.
  int xdp_fd = load_foreign_program(BPF_PROG_TYPE_XDP, XDP_PASS);
  ASSERT_GE(xdp_fd, 0) << std::strerror(errno);
  ASSERT_EQ(bpf_xdp_attach(lan_, xdp_fd, XDP_FLAGS_SKB_MODE, nullptr), 0) << std::strerror(errno);
  uint32_t foreign_xdp = program_id(xdp_fd);
  ::close(xdp_fd);
  // TC_ACT_UNSPEC: a direct-action filter that lets the next filter (ours,
  // at a later priority) decide; TC_ACT_OK would end the chain before us.
  int tc_fd = load_foreign_program(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_UNSPEC);
  ASSERT_GE(tc_fd, 0) << std::strerror(errno);
  bpf_tc_hook hook = tc_hook(lan_, BPF_TC_EGRESS);
  ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
  bpf_tc_opts foreign{};
  foreign.sz = sizeof foreign;
  foreign.handle = 1;
  foreign.priority = 1;
  foreign.prog_fd = tc_fd;
  ASSERT_EQ(bpf_tc_attach(&hook, &foreign), 0);
  uint32_t foreign_tc = program_id(tc_fd);
  ::close(tc_fd);

  // Even with native XDP asked for explicitly, bwalloc steps aside.
  config_.ingress_mode = IngressAttachMode::XdpNative;
  open_datapath();
  DatapathStatus status = datapath_->status();
  EXPECT_FALSE(has_program(status, "bwa_xdp_ingress", "lan0", "xdp")) << describe(status);
  EXPECT_TRUE(has_program(status, "bwa_tc_ingress", "lan0", "tc ingress")) << describe(status);
  EXPECT_NE(status.pacing_note.find("another program"), std::string::npos) << status.pacing_note;
  EXPECT_EQ(query_xdp(lan_).program_id, foreign_xdp);

  // tc ingress counts instead of XDP.
  ASSERT_TRUE(ping_inet(3));
  auto seen = counters_of(*datapath_, device_ip());
  ASSERT_TRUE(seen.has_value());
  EXPECT_GE(seen->up_packets, 3u);
  EXPECT_GE(seen->down_packets, 3u);
  DevicePolicy blocked{device_ip(), Priority::Blocked, 0, 0, false};
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());
  EXPECT_TRUE(cut_off(2)) << "tc ingress does not drop a Blocked device";

  datapath_.reset();
  auto detached = detach_datapath(config_);
  ASSERT_TRUE(detached.ok()) << detached.message();
  expect_nothing_of_ours_left();
  EXPECT_EQ(query_xdp(lan_).program_id, foreign_xdp) << "the foreign XDP program was removed";
  EXPECT_EQ(tc_filter_id(lan_, BPF_TC_EGRESS, 1, 1), foreign_tc) << "the foreign tc filter was removed";
  EXPECT_TRUE(has_clsact(lan_)) << "the clsact holding a foreign filter was removed";
  EXPECT_FALSE(has_clsact(wan_));
  EXPECT_TRUE(ping_inet(1));
}

TEST_F(EbpfDatapathNs, RefusesAForeignFilterAtItsOwnHandleAndLeavesIt) {
  int tc_fd = load_foreign_program(BPF_PROG_TYPE_SCHED_CLS, TC_ACT_OK);
  ASSERT_GE(tc_fd, 0) << std::strerror(errno);
  bpf_tc_hook hook = tc_hook(lan_, BPF_TC_EGRESS);
  ASSERT_EQ(bpf_tc_hook_create(&hook), 0);
  bpf_tc_opts squatter{};
  squatter.sz = sizeof squatter;
  squatter.handle = kTcFilterHandle;
  squatter.priority = kTcFilterPriority;
  squatter.prog_fd = tc_fd;
  ASSERT_EQ(bpf_tc_attach(&hook, &squatter), 0);
  uint32_t foreign_tc = program_id(tc_fd);
  ::close(tc_fd);

  auto opened = EbpfDatapath::open(config_);
  ASSERT_FALSE(opened.ok()) << "opened over another tool's filter";
  EXPECT_NE(opened.message().find("another tool"), std::string::npos) << opened.message();
  EXPECT_NE(opened.message().find("lan0"), std::string::npos) << opened.message();

  auto detached = detach_datapath(config_);
  EXPECT_TRUE(detached.ok()) << detached.message();
  EXPECT_EQ(tc_filter_id(lan_, BPF_TC_EGRESS, kTcFilterHandle, kTcFilterPriority), foreign_tc);
  EXPECT_FALSE(std::filesystem::exists(kPinDir));
}

TEST_F(EbpfDatapathNs, RefusesAPinDirectoryOwnedByAnotherUser) {
  // Someone else's directory could hold maps planted to steer our programs.
  ASSERT_EQ(mkdir(kPinDir, 0700), 0) << std::strerror(errno);
  ASSERT_EQ(chown(kPinDir, 65534, 65534), 0) << std::strerror(errno);
  auto opened = EbpfDatapath::open(config_);
  ASSERT_FALSE(opened.ok()) << "adopted a pin directory owned by another user";
  EXPECT_NE(opened.message().find("owned by uid 65534"), std::string::npos) << opened.message();
  EXPECT_EQ(query_tc(lan_, TcDirection::Egress), 0u) << "attached before refusing";
  EXPECT_FALSE(query_xdp(lan_).attached);
}

TEST_F(EbpfDatapathNs, RestartAdoptsPinsAndKeepsPolicies) {
  config_.ingress_mode = IngressAttachMode::XdpNative;  // the pinned XDP link is part of what is adopted
  open_datapath();
  DevicePolicy blocked{device_ip(), Priority::Blocked, 0, 0, false};
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());
  ASSERT_TRUE(cut_off(1));
  uint32_t first_xdp = query_xdp(lan_).program_id;
  ASSERT_NE(first_xdp, 0u);

  // The agent goes away: programs and pins stay, so the block holds.
  datapath_.reset();
  EXPECT_TRUE(cut_off(1)) << "the block ended with the agent";

  // A new agent adopts the maps (the policy is still there) and moves the
  // pinned XDP link to its own program.
  open_datapath();
  uint32_t second_xdp = query_xdp(lan_).program_id;
  EXPECT_NE(second_xdp, 0u);
  EXPECT_NE(second_xdp, first_xdp) << "the XDP link still runs the old program";
  EXPECT_TRUE(is_bwalloc_program(second_xdp));
  EXPECT_EQ(datapath_->status().maps[1].used_entries, 1u);
  EXPECT_TRUE(cut_off(1)) << "the adopted block was lost";
  // The adopted policy is known: re-applying it is a no-op, changing it works.
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());
  ASSERT_TRUE(datapath_->apply_policies({DevicePolicy{device_ip(), Priority::High, 0, 0, false}}).ok());
  EXPECT_TRUE(ping_inet(1));
  ASSERT_TRUE(datapath_->apply_policies({blocked}).ok());

  // A different map size is a different layout: the pins are replaced, never trusted.
  datapath_.reset();
  config_.max_devices = 2048;
  open_datapath();
  DatapathStatus status = datapath_->status();
  EXPECT_EQ(status.maps[1].max_entries, 2048u);
  EXPECT_EQ(status.maps[1].used_entries, 0u);
  EXPECT_TRUE(ping_inet(1)) << "the replaced policy map still blocks";
}

}  // namespace
}  // namespace bwalloc
