// The demo removes everything it made however it is stopped: `bwalloc demo`
// (the path scripts/demo.sh execs after building) runs with its own prefix
// and port; the test signals the script's process only (never its children:
// `timeout -s INT`, systemd or a supervisor do that), waits for it to exit
// and checks that no pins, namespaces or processes are left. TearDown
// removes whatever a failing run leaves.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <sstream>

#include <gtest/gtest.h>

#include "tests/net/virtual_lan.h"

namespace bwalloc {
namespace {

using test::ChildProcess;
using test::read_text;
using test::run_command;

constexpr const char* kPrefix = "bwdc-";
constexpr const char* kPinDir = "/sys/fs/bpf/bwalloc-demo-bwdc";
constexpr const char* kRunDir = "/run/bwalloc-demo-bwdc";

std::vector<std::string> our_namespaces() {
  std::vector<std::string> found;
  std::istringstream list(run_command({"ip", "netns", "list"}).output);
  for (std::string line; std::getline(list, line);) {
    if (line.rfind(kPrefix, 0) == 0) found.push_back(line.substr(0, line.find(' ')));
  }
  return found;
}

bool group_alive(pid_t group) { return kill(-group, 0) == 0; }

class DemoCleanupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto blocker = test::namespace_test_blocker()) GTEST_SKIP() << *blocker;
    if (run_command({"sh", "-c", "command -v iperf3"}).exit_code != 0) GTEST_SKIP() << "iperf3 is not installed";
    log_ = std::filesystem::temp_directory_path() / ("bwalloc-demo-test-" + std::to_string(getpid()) + ".log");
    remove_leftovers();
  }

  void TearDown() override {
    // A failed run: stop the whole demo (its own process group) and reap it.
    if (demo_) demo_->kill9(/*group=*/true);
    remove_leftovers();
    std::filesystem::remove(log_);
  }

  void remove_leftovers() {
    run_command({BWALLOC_BINARY, "detach", "--set", std::string("datapath.pin_dir=\"") + kPinDir + "\"", "--set",
                 std::string("datapath.state_dir=\"") + kRunDir + "/state\"", "--netns", std::string(kPrefix) + "rtr"});
    run_command({std::string(BWALLOC_SOURCE_DIR) + "/scripts/vlan.sh", "down", "--prefix", kPrefix});
    std::error_code ec;
    std::filesystem::remove_all(kRunDir, ec);
  }

  // Starts `bwalloc demo` in a session of its own (so no signal meant for the
  // test reaches it, and its process group is only the demo), SIGINT and
  // SIGTERM at their defaults as a shell started from a terminal has them.
  void start_demo() {
    demo_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BWALLOC_BINARY, "demo", "--devices", "2", "--port", "0", "--prefix", kPrefix},
        test::SpawnOptions{.output_file = log_.string(),
                           .own_session = true,
                           // kept when the caller set it
                           .default_environment = {{"BWALLOC_SCRIPTS", BWALLOC_SOURCE_DIR "/scripts"}}});
    ASSERT_GT(demo_->pid(), 0);
    // Up means the agent announced its dashboard: namespaces, pins and
    // traffic are all in place by then.
    ASSERT_TRUE(wait_for_log("Dashboard: http://")) << read_text(log_);
    ASSERT_TRUE(std::filesystem::exists(kPinDir)) << "the demo pins under " << kPinDir << "\n" << read_text(log_);
    ASSERT_FALSE(our_namespaces().empty());
  }

  // Polls the log for `text` while the demo runs; false when it exits first
  // or never says it (the bound only keeps a broken demo from hanging the suite).
  bool wait_for_log(const std::string& text) {
    bool said = false;
    test::wait_until(
        [&] {
          said = read_text(log_).find(text) != std::string::npos;
          return said || demo_->exited();
        },
        kDemoPatience, std::chrono::milliseconds(100));
    return said;
  }

  // Waits for the script to exit (bounded as above) and checks what it left.
  void expect_everything_removed() {
    const pid_t group = demo_->pid();
    ASSERT_TRUE(demo_->wait_exit(kDemoPatience)) << "the demo did not exit\n" << read_text(log_);
    const std::string log = read_text(log_);
    EXPECT_FALSE(std::filesystem::exists(kPinDir)) << "pins left under " << kPinDir << "\n" << log;
    EXPECT_TRUE(our_namespaces().empty()) << "namespaces left\n" << log;
    EXPECT_FALSE(group_alive(group)) << "processes of the demo still run\n" << log;
    EXPECT_NE(log.find("demo: removed the virtual LAN"), std::string::npos) << log;
    if (group_alive(group)) kill(-group, SIGKILL);
  }

  // The bound only keeps a broken demo from hanging the suite.
  static constexpr std::chrono::minutes kDemoPatience{3};
  std::filesystem::path log_;
  std::unique_ptr<ChildProcess> demo_;
};

TEST_F(DemoCleanupTest, OneSigintToTheScriptRemovesEverything) {
  start_demo();
  ASSERT_EQ(kill(demo_->pid(), SIGINT), 0);
  expect_everything_removed();
}

// timeout -s INT signals the script and then its process group; Ctrl-C gets
// pressed twice. The second signal lands while the cleanup is under way
// (the agent is stopping) and must not cut it short.
TEST_F(DemoCleanupTest, ASecondSigintDuringTheCleanupDoesNotCutItShort) {
  start_demo();
  ASSERT_EQ(kill(demo_->pid(), SIGINT), 0);
  ASSERT_TRUE(wait_for_log("INFO agent: stopping on")) << read_text(log_);
  ASSERT_EQ(kill(demo_->pid(), SIGINT), 0);
  expect_everything_removed();
}

// A SIGINT that reaches only the agent (the script ignores it, as a
// background job of a non-interactive shell does): the agent stops and the
// script still removes everything.
TEST_F(DemoCleanupTest, TheAgentStoppingOnItsOwnRemovesEverything) {
  start_demo();
  // The agent: the process of the demo's session running `bwalloc run --netns`.
  pid_t agent_pid = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const pid_t pid = static_cast<pid_t>(std::strtol(entry.path().filename().c_str(), nullptr, 10));
    if (pid <= 0 || getsid(pid) != demo_->pid()) continue;
    if (read_text(entry.path() / "cmdline").find(std::string("run") + '\0' + "--netns") != std::string::npos) {
      agent_pid = pid;
    }
  }
  ASSERT_GT(agent_pid, 0) << read_text(log_);
  ASSERT_EQ(kill(agent_pid, SIGINT), 0);
  expect_everything_removed();
}

}  // namespace
}  // namespace bwalloc
