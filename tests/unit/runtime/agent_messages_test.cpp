// What `bwalloc run` says at start and stop, through the real binary on the
// simulator backend: a first start on a new database restores nothing (the
// simulator's devices are new, not restored), a second start restores what
// the first saved, and stopping names nothing that was never attached.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "tests/support/files.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace bwalloc {
namespace {

using test::ChildProcess;
using test::read_text;

class AgentMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-messages-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (agent_) agent_->kill9();
    std::filesystem::remove_all(dir_);
  }

  // Device rows the agent has committed (read as another process would).
  int saved_devices() {
    sqlite3* db = nullptr;
    int count = -1;
    if (sqlite3_open_v2((dir_ / "bwalloc.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
      sqlite3_stmt* q = nullptr;
      if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM devices", -1, &q, nullptr) == SQLITE_OK &&
          sqlite3_step(q) == SQLITE_ROW) {
        count = sqlite3_column_int(q, 0);
      }
      sqlite3_finalize(q);
    }
    sqlite3_close(db);
    return count;
  }

  // Runs the agent until it serves and `ready` holds, stops it with
  // `signal` and returns its log.
  std::string run_and_stop(
      int signal_number, const std::function<bool()>& ready = [] { return true; }) {
    const int devices = 5;
    // A log of its own per run: the previous run's lines must not answer for this one.
    const auto log = dir_ / ("agent-" + std::to_string(runs_++) + ".log");
    const std::string d = dir_.string();
    agent_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{BWALLOC_BINARY, "run", "--set", "agent.backend=\"simulator\"", "--set",
                                 "agent.simulated_devices=" + std::to_string(devices), "--set", "http.port=0", "--set",
                                 "store.path=\"" + d + "/bwalloc.db\"", "--set", "http.token_file=\"" + d + "/token\"",
                                 "--set", "datapath.state_dir=\"" + d + "/state\""},
        test::SpawnOptions{.output_file = log.string()});
    // Serving: the last start-up line. The bound only keeps a broken agent
    // from hanging the suite.
    bool serving = false;
    test::wait_until([&] {
      serving = read_text(log).find("dashboard and API on") != std::string::npos && ready();
      return serving || agent_->exited();
    });
    if (!serving) {
      ADD_FAILURE() << (agent_->exited() ? "the agent exited at start:\n" : "the agent did not start:\n")
                    << read_text(log);
      return read_text(log);
    }
    kill(agent_->pid(), signal_number);
    EXPECT_TRUE(agent_->wait_exit()) << "the agent did not stop on signal " << signal_number << "\n" << read_text(log);
    EXPECT_EQ(agent_->exit_code(), 0) << "exit code (128 + signal when a signal ended it)\n" << read_text(log);
    return read_text(log);
  }

  std::filesystem::path dir_;
  std::unique_ptr<ChildProcess> agent_;
  int runs_ = 0;
};

TEST_F(AgentMessagesTest, AFirstStartRestoresNothingAndASecondRestoresWhatWasSaved) {
  const std::string first = run_and_stop(SIGTERM, [&] { return saved_devices() == 5; });
  EXPECT_EQ(first.find("restored 5 devices"), std::string::npos) << "the simulator's devices are new:\n" << first;
  EXPECT_NE(first.find("no devices saved"), std::string::npos) << first;
  const std::string second = run_and_stop(SIGTERM);
  EXPECT_NE(second.find("restored 5 devices (0 blocked)"), std::string::npos) << second;
}

TEST_F(AgentMessagesTest, StoppingTheSimulatorMentionsNoDatapath) {
  for (int signal_number : {SIGTERM, SIGINT}) {
    const std::string log = run_and_stop(signal_number);
    const char* name = signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
    EXPECT_NE(log.find(std::string("stopping on ") + name), std::string::npos) << log;
    EXPECT_EQ(log.find("stays attached"), std::string::npos) << "the simulator attaches nothing:\n" << log;
    EXPECT_EQ(log.find("bwalloc detach"), std::string::npos) << log;
  }
}

}  // namespace
}  // namespace bwalloc
