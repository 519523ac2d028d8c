// Out of file descriptors: a connection the listener cannot accept waits in
// the kernel's queue, the agent says why in its log, and once descriptors
// are free again the waiting connection and new ones are served. The test
// lowers its own RLIMIT_NOFILE to the descriptors it holds and fills every
// free number below it, so the server's accept() fails with EMFILE.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "tests/unit/http/http_test_server.h"

namespace bwalloc {
namespace {

// stderr (where the log goes) into a pipe the test reads, until destroyed.
class StderrCapture {
 public:
  StderrCapture() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    read_end_ = fds[0];
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::close(fds[1]);
  }
  ~StderrCapture() {
    if (saved_ >= 0) {
      ::dup2(saved_, STDERR_FILENO);
      ::close(saved_);
    }
    if (read_end_ >= 0) ::close(read_end_);
  }
  // Everything logged until `text` appears; false at the safety deadline.
  bool wait_for(const std::string& text) {
    auto deadline = std::chrono::steady_clock::now() + test::kSafetyTimeout;
    while (captured_.find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      pollfd p{read_end_, POLLIN, 0};
      if (::poll(&p, 1, 1000) != 1) continue;
      char buf[4096];
      ssize_t n = ::read(read_end_, buf, sizeof buf);
      if (n <= 0) return false;
      captured_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  const std::string& captured() const { return captured_; }

 private:
  int read_end_ = -1;
  int saved_ = -1;
  std::string captured_;
};

// While alive, the process can open no new descriptor: the soft limit sits
// just above the highest one open and every free number is taken.
class DescriptorsExhausted {
 public:
  DescriptorsExhausted() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit lowered = saved_;
    lowered.rlim_cur = highest_open() + 1;
    ::setrlimit(RLIMIT_NOFILE, &lowered);
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) fillers_.push_back(fd);
    full_ = errno == EMFILE;
  }
  ~DescriptorsExhausted() {
    for (int fd : fillers_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  bool full() const { return full_ && !fillers_.empty(); }
  // Frees one descriptor for the caller to take at once.
  void free_one() {
    ::close(fillers_.back());
    fillers_.pop_back();
  }

 private:
  static rlim_t highest_open() {
    int highest = 2;
    if (DIR* dir = ::opendir("/proc/self/fd")) {
      while (dirent* e = ::readdir(dir)) highest = std::max(highest, std::atoi(e->d_name));
      ::closedir(dir);
    }
    return static_cast<rlim_t>(highest);
  }
  rlimit saved_{};
  std::vector<int> fillers_;
  bool full_ = false;
};

class HttpFdExhaustionTest : public test::HttpServerTest {};

TEST_F(HttpFdExhaustionTest, ServesAgainOnceDescriptorsAreFree) {
  StderrCapture log;
  std::optional<test::RawClient> waiting;
  {
    DescriptorsExhausted exhausted;
    ASSERT_TRUE(exhausted.full()) << "could not fill the descriptor table";
    exhausted.free_one();  // the client's socket; the server then has none for accept()
    waiting.emplace(port());
    ASSERT_TRUE(waiting->connected()) << "the kernel queues the connection for the listener";
    ASSERT_TRUE(log.wait_for("cannot accept connections")) << log.captured();
    EXPECT_NE(log.captured().find("open-file limit"), std::string::npos) << "the warning says what to change";
  }
  ASSERT_TRUE(waiting->send(test::raw_request("GET", "/api/devices")));
  EXPECT_EQ(waiting->read_response().status, 200) << "the queued connection is served once descriptors are free";
  EXPECT_EQ(exchange(test::raw_request("GET", "/health")).status, 200) << "and so are new ones";
}

}  // namespace
}  // namespace bwalloc
