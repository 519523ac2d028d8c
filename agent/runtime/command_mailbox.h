// CommandMailbox: how commands from other threads reach the agent's tick
// thread, the only thread that touches the agent's state while the run loop
// runs.
//
// The contract:
// - While open (Agent::run is running), call() queues the command, wakes the
//   loop and waits for the answer up to a timeout. The loop runs queued
//   commands between ticks, in the order they came, under the owner lock.
// - While closed (before run() starts, after it returns: tests that drive
//   tick() by hand) there is no tick thread: call() runs the command on the
//   calling thread, under the owner lock, one caller at a time.
// A caller whose command was not answered in time gets an error saying so,
// and whether the command was withdrawn (nothing changed) or may still run.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>

#include "agent/common/result.h"

namespace bwalloc {

class CommandMailbox {
 public:
  explicit CommandMailbox(std::chrono::milliseconds timeout) : timeout_(timeout) {}

  // Any thread: runs `command` where the contract above says and returns its
  // answer. The command must own what it uses (capture by value): a caller
  // that timed out no longer waits for it.
  template <class T>
  Result<T> call(std::function<Result<T>()> command);

  // Held by whoever uses the agent's state: the run loop for each piece of
  // work, a caller running its command inline while the mailbox is closed.
  std::mutex& owner_lock() { return owner_; }

  // The run loop's side. open() at its start, close() at its end (close
  // runs what is still queued, so no caller is left waiting).
  void open();
  void close();
  // Waits until a command arrives or `at_most` has passed.
  void wait(std::chrono::nanoseconds at_most);
  // Runs every queued command; call with owner_lock() held.
  void run_queued();

 private:
  struct Entry {
    uint64_t id = 0;
    std::function<void()> run;
  };
  // Takes a command not yet started back out of the queue; false when it
  // has already been taken to run.
  bool withdraw(uint64_t id);
  std::string timeout_message(bool withdrawn) const;

  const std::chrono::milliseconds timeout_;
  std::mutex mutex_;  // guards queue_, open_, next_id_
  std::condition_variable arrived_;
  std::deque<Entry> queue_;
  bool open_ = false;
  uint64_t next_id_ = 0;
  std::mutex owner_;
};

template <class T>
Result<T> CommandMailbox::call(std::function<Result<T>()> command) {
  auto task = std::make_shared<std::packaged_task<Result<T>()>>(std::move(command));
  std::future<Result<T>> answer = task->get_future();
  uint64_t id = 0;
  {
    std::unique_lock lock(mutex_);
    if (!open_) {
      lock.unlock();
      std::lock_guard owner(owner_);
      (*task)();
      return answer.get();
    }
    id = next_id_++;
    queue_.push_back(Entry{id, [task] { (*task)(); }});
  }
  arrived_.notify_one();
  if (answer.wait_for(timeout_) == std::future_status::ready) return answer.get();
  return Error{timeout_message(withdraw(id))};
}

}  // namespace bwalloc
