// Signal broadcast to every thread; see all_threads.h.
#include "agent/runtime/all_threads.h"

#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace bwalloc {
namespace {

// One request at a time (the mutex below): the handler finds it here.
struct Request {
  ThreadFunction function = nullptr;
  const void* argument = nullptr;
  std::atomic<int> outcome{0};
  std::atomic<bool> done{false};
};
std::atomic<Request*> current_request{nullptr};
std::mutex broadcast_mutex;

// A real-time signal nothing else in the agent uses; glibc's own ones sit
// below SIGRTMIN.
int broadcast_signal() { return SIGRTMIN + 5; }

void on_signal(int) {
  int saved = errno;
  if (Request* request = current_request.load()) {
    request->outcome.store(request->function(request->argument));
    request->done.store(true);
  }
  errno = saved;
}

std::vector<pid_t> list_threads() {
  std::vector<pid_t> tids;
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return tids;
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    tids.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
  }
  closedir(dir);
  return tids;
}

bool thread_alive(pid_t tid) { return access(("/proc/self/task/" + std::to_string(tid)).c_str(), F_OK) == 0; }

std::string errno_message(int error) { return std::strerror(error); }

}  // namespace

Result<size_t> run_on_all_threads(ThreadFunction function, const void* argument) {
  std::lock_guard lock(broadcast_mutex);
  const pid_t self = static_cast<pid_t>(syscall(SYS_gettid));
  if (int own = function(argument); own != 0) return make_error("on the calling thread", errno_message(own));

  // The handler stays installed afterwards: a late signal to a thread that
  // did not answer in time then finds no request and does nothing, where the
  // default action of a real-time signal would end the process.
  struct sigaction action {};
  action.sa_handler = on_signal;
  // SA_RESTART: reads and writes the signal lands in carry on; waits that
  // cannot restart (epoll_wait, nanosleep) return EINTR, which Asio and
  // std::this_thread::sleep_for already retry.
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  if (sigaction(broadcast_signal(), &action, nullptr) != 0) {
    return make_error("install the thread broadcast signal handler", errno_message(errno));
  }

  std::set<pid_t> done = {self};
  std::string failure;
  for (bool found_new = true; found_new && failure.empty();) {
    found_new = false;
    for (pid_t tid : list_threads()) {
      if (done.count(tid)) continue;
      found_new = true;
      Request request;
      request.function = function;
      request.argument = argument;
      current_request.store(&request);
      if (syscall(SYS_tgkill, getpid(), tid, broadcast_signal()) != 0) {
        current_request.store(nullptr);
        if (errno == ESRCH) {  // it ended before we got to it
          done.insert(tid);
          continue;
        }
        failure = "signal thread " + std::to_string(tid) + ": " + errno_message(errno);
        break;
      }
      // A thread that blocks the signal never answers; one that ends first
      // does not need to.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (!request.done.load() && thread_alive(tid) && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::microseconds(200));
      }
      current_request.store(nullptr);
      if (!request.done.load() && thread_alive(tid)) {
        failure = "thread " + std::to_string(tid) + " did not answer within 2 s (it blocks signal " +
                  std::to_string(broadcast_signal()) + ")";
        break;
      }
      if (request.done.load() && request.outcome.load() != 0) {
        failure = "on thread " + std::to_string(tid) + ": " + errno_message(request.outcome.load());
        break;
      }
      done.insert(tid);
    }
  }
  if (!failure.empty()) return Error{failure};
  return done.size();
}

}  // namespace bwalloc
