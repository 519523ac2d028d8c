// Capability sets: parsing the kernel's status lines, names, what each
// backend keeps, and the drop reaching every thread of a process (done in a
// forked child so the test runner keeps its own privileges).
#include "agent/runtime/privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>

#include "tests/support/files.h"
#include "tests/support/wait.h"

namespace bwalloc {
namespace {

constexpr CapabilityMask bit(int cap) { return CapabilityMask{1} << cap; }

TEST(Privileges, ParsesTheKernelsStatusLines) {
  const std::string status =
      "Name:\tbwalloc\nCapInh:\t0000000000000000\nCapPrm:\t0000008000003000\nCapEff:\t0000008000003000\n"
      "CapBnd:\t0000008000003000\nCapAmb:\t0000000000000000\nNoNewPrivs:\t1\nSeccomp:\t0\n";
  auto sets = parse_status_capabilities(status);
  ASSERT_TRUE(sets) << sets.message();
  const CapabilityMask kept = bit(CAP_BPF) | bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);
  EXPECT_EQ(sets->effective, kept);
  EXPECT_EQ(sets->permitted, kept);
  EXPECT_EQ(sets->bounding, kept);
  EXPECT_EQ(sets->inheritable, 0u);
  EXPECT_EQ(sets->ambient, 0u);
  EXPECT_TRUE(sets->no_new_privs);
}

TEST(Privileges, RejectsStatusWithoutCapabilityLines) {
  auto sets = parse_status_capabilities("Name:\tx\nState:\tS (sleeping)\n");
  ASSERT_FALSE(sets);
  EXPECT_NE(sets.message().find("CapEff"), std::string::npos) << sets.message();
  EXPECT_FALSE(parse_status_capabilities("CapEff:\tzz\nCapPrm:\t0\nCapInh:\t0\nCapBnd:\t0\n"));
}

TEST(Privileges, NamesComeInKernelOrder) {
  EXPECT_EQ(capability_names(bit(CAP_BPF) | bit(CAP_NET_RAW) | bit(CAP_NET_ADMIN)),
            "cap_net_admin,cap_net_raw,cap_bpf");
  EXPECT_EQ(capability_names(0), "(none)");
  EXPECT_EQ(capability_names(bit(CAP_CHOWN) | bit(CAP_CHECKPOINT_RESTORE)), "cap_chown,cap_checkpoint_restore");
  EXPECT_EQ(capability_list(bit(50)), std::vector<std::string>{"cap_50"});
}

TEST(Privileges, EachBackendKeepsWhatItNeeds) {
  const CapabilityMask kept = bit(CAP_BPF) | bit(CAP_NET_ADMIN) | bit(CAP_NET_RAW);
  EXPECT_EQ(runtime_capabilities(BackendChoice::Ebpf), kept);
  EXPECT_EQ(runtime_capabilities(BackendChoice::Auto), kept);
  EXPECT_EQ(runtime_capabilities(BackendChoice::Pcap), kept) << "pcap needs CAP_NET_RAW, tc shaping CAP_NET_ADMIN";
  EXPECT_EQ(runtime_capabilities(BackendChoice::Simulator), 0u);
}

// Runs `body` in a forked child; its message (empty on success) comes back
// through a pipe. The child never returns into the test runner.
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (pipe(fds) != 0) return std::string("pipe: ") + std::strerror(errno);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string message = body();
    if (message.empty()) message = "ok";
    (void)!write(fds[1], message.data(), message.size());
    _exit(0);
  }
  close(fds[1]);
  std::string message;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) message.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status)) return "the child died (status " + std::to_string(status) + "): " + message;
  return message == "ok" ? "" : message;
}

using test::read_text;

// How often the waits below look at the threads they watch.
constexpr std::chrono::milliseconds kPoll{1};

// Thread `tid` of this process sits in system call `number` (/proc's view).
bool in_syscall(pid_t tid, long number) {
  const std::string call = read_text("/proc/self/task/" + std::to_string(tid) + "/syscall");
  return call.rfind(std::to_string(number) + " ", 0) == 0;
}

TEST(Privileges, DropReachesEveryThreadAndBlockedCallsCarryOn) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root: dropping capabilities it does not hold proves nothing";
  std::string outcome = in_child([]() -> std::string {
    std::atomic<bool> done{false};
    // One thread sleeps, one waits in read(): the signal must not break them.
    std::thread sleeper([&] {
      while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    int p[2];
    if (pipe(p) != 0) return "pipe failed";
    std::string got;
    std::atomic<pid_t> reader_tid{0};
    std::thread reader([&] {
      reader_tid = gettid();
      char c = 0;
      if (read(p[0], &c, 1) == 1) got.assign(1, c);
    });
    // The signal must find the reader blocked in read(): wait until it is.
    const bool reader_blocked =
        test::wait_until([&] { return reader_tid != 0 && in_syscall(reader_tid, SYS_read); }, test::kPatience, kPoll);

    auto report = restrict_process_capabilities(bit(CAP_NET_RAW));
    if (!report) return "restrict failed: " + report.message();
    // Every thread, including one started after the drop, holds only NET_RAW.
    std::thread late([] {});
    late.join();
    std::string problems;
    size_t threads = 0;
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
      auto sets = parse_status_capabilities(read_text(task.path().string() + "/status"));
      if (!sets) continue;
      ++threads;
      if (sets->effective != bit(CAP_NET_RAW) || sets->permitted != bit(CAP_NET_RAW) ||
          sets->bounding != bit(CAP_NET_RAW) || sets->inheritable != 0 || !sets->no_new_privs) {
        problems += " thread " + task.path().filename().string() + ": eff " + capability_names(sets->effective) +
                    " bnd " + capability_names(sets->bounding) + ";";
      }
    }
    if (write(p[1], "x", 1) != 1) return "pipe write failed";
    reader.join();
    done = true;
    sleeper.join();
    if (!reader_blocked) return "the reader thread never blocked in read()";
    if (!problems.empty()) return "still privileged:" + problems;
    if (threads < 3) return "saw only " + std::to_string(threads) + " threads";
    if (report->threads < 3) return "the drop ran on " + std::to_string(report->threads) + " threads only";
    if (got != "x") return "the blocked read() did not carry on after the signal";
    if (report->sets.effective != bit(CAP_NET_RAW)) return "report: " + capability_names(report->sets.effective);
    return "";
  });
  EXPECT_EQ(outcome, "");
}

TEST(Privileges, AThreadThatBlocksTheSignalFailsTheDropWithAReason) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string outcome = in_child([]() -> std::string {
    std::atomic<bool> done{false};
    std::atomic<bool> deaf_now{false};
    std::thread deaf([&] {
      sigset_t all;
      sigfillset(&all);
      pthread_sigmask(SIG_BLOCK, &all, nullptr);
      deaf_now = true;
      while (!done) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    });
    // The drop must meet the thread with its signals blocked.
    const bool masked = test::wait_until([&] { return deaf_now.load(); }, test::kPatience, kPoll);
    auto report = restrict_process_capabilities(bit(CAP_NET_RAW));
    done = true;
    deaf.join();
    if (!masked) return "the deaf thread never blocked its signals";
    if (report) return "the drop claimed success with a thread it could not reach";
    if (report.message().find("did not answer") == std::string::npos) return "unexpected error: " + report.message();
    return "";
  });
  EXPECT_EQ(outcome, "");
}

}  // namespace
}  // namespace bwalloc
