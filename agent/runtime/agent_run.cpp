// The tick thread's loop: ticks on the Clock's schedule, runs commands as
// they arrive, follows the interfaces between ticks, scans the LAN.
#include "agent/common/log.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/run_schedule.h"

namespace bwalloc {

void Agent::run(const std::atomic<bool>& stop) {
  mailbox_.open();
  RunSchedule schedule(clock_.mono_now());
  while (!stop) {
    {
      std::lock_guard owner(mailbox_.owner_lock());
      if (schedule.tick_due(clock_.mono_now())) {
        tick_owned();
        if (discovery_ && schedule.scan_due(clock_.mono_now())) {
          scan_owned("discovery");
          schedule.scanned(clock_.mono_now());
        }
        schedule.ticked(clock_.mono_now(), config_.allocator.tick);
      }
      mailbox_.run_queued();
    }
    // Woken early by a command; otherwise after at most kFollowInterval.
    mailbox_.wait(schedule.wait_from(clock_.mono_now()));
    std::lock_guard owner(mailbox_.owner_lock());
    mailbox_.run_queued();
    maintain_interfaces_owned();
  }
  mailbox_.close();
}

void Agent::scan_owned(const std::string& actor) {
  auto found = discovery_->scan();
  if (!found) {
    log_warn("agent", "neighbour scan: " + found.message());
    return;
  }
  merge_neighbours_owned(*found, actor);
}

}  // namespace bwalloc
