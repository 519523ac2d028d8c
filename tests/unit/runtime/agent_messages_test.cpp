// What `bwalloc run` says at start and stop, through the real binary on the
// simulator backend: a first start on a new database restores nothing (the
// simulator's devices are new, not restored), a second start restores what
// the first saved, and stopping names nothing that was never attached.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <functional>

namespace bwalloc {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class AgentMessagesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwalloc-messages-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (agent_ > 0) {
      kill(agent_, SIGKILL);
      waitpid(agent_, nullptr, 0);
    }
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
  std::string run_and_stop(int signal_number, const std::function<bool()>& ready = [] { return true; }) {
    const int devices = 5;
    // A log of its own per run: the previous run's lines must not answer for this one.
    const auto log = dir_ / ("agent-" + std::to_string(runs_++) + ".log");
    agent_ = fork();
    if (agent_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(fd, 1);
      dup2(fd, 2);
      const std::string d = dir_.string();
      const std::string store = "store.path=\"" + d + "/bwalloc.db\"";
      const std::string token = "http.token_file=\"" + d + "/token\"";
      const std::string state = "datapath.state_dir=\"" + d + "/state\"";
      const std::string simulated = "agent.simulated_devices=" + std::to_string(devices);
      execl(BWALLOC_BINARY, BWALLOC_BINARY, "run", "--set", "agent.backend=\"simulator\"", "--set", simulated.c_str(),
            "--set", "http.port=0", "--set", store.c_str(), "--set", token.c_str(), "--set", state.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
    // Serving: the last start-up line. The bound only keeps a broken agent
    // from hanging the suite.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (read_text(log).find("dashboard and API on") == std::string::npos || !ready()) {
      int status = 0;
      if (waitpid(agent_, &status, WNOHANG) == agent_) {
        agent_ = -1;
        ADD_FAILURE() << "the agent exited at start:\n" << read_text(log);
        return read_text(log);
      }
      if (std::chrono::steady_clock::now() > give_up) {
        ADD_FAILURE() << "the agent did not start:\n" << read_text(log);
        return read_text(log);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(agent_, signal_number);
    int status = 0;
    waitpid(agent_, &status, 0);
    agent_ = -1;
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
        << "wait status " << status << " (signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0) << ")\n"
        << read_text(log);
    return read_text(log);
  }

  std::filesystem::path dir_;
  pid_t agent_ = -1;
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
