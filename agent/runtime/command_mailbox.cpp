// The command mailbox's queue and wake-up; see command_mailbox.h.
#include "agent/runtime/command_mailbox.h"

#include <algorithm>

namespace bwalloc {

void CommandMailbox::open() {
  std::lock_guard lock(mutex_);
  open_ = true;
}

void CommandMailbox::close() {
  {
    std::lock_guard lock(mutex_);
    open_ = false;
  }
  std::lock_guard owner(owner_);
  run_queued();
}

void CommandMailbox::wait(std::chrono::nanoseconds at_most) {
  std::unique_lock lock(mutex_);
  arrived_.wait_for(lock, at_most, [&] { return !queue_.empty(); });
}

void CommandMailbox::run_queued() {
  for (;;) {
    Entry next;
    {
      std::lock_guard lock(mutex_);
      if (queue_.empty()) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    next.run();
  }
}

bool CommandMailbox::withdraw(uint64_t id) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(queue_.begin(), queue_.end(), [&](const Entry& e) { return e.id == id; });
  if (it == queue_.end()) return false;
  queue_.erase(it);
  return true;
}

std::string CommandMailbox::timeout_message(bool withdrawn) const {
  const auto ms = timeout_.count();
  const std::string within = ms % 1000 == 0 ? std::to_string(ms / 1000) + " s" : std::to_string(ms) + " ms";
  return "the agent did not answer within " + within +
         (withdrawn ? " (its tick thread is busy or stuck; see the log); nothing was changed, try again"
                    : " (its tick thread is slow; see the log); the command may still take effect, check before "
                      "repeating it");
}

}  // namespace bwalloc
