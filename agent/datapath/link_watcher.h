// LinkWatcher: an rtnetlink socket subscribed to link notifications
// (RTMGRP_LINK) in the namespace it was opened in, so the datapath learns at
// once that a configured interface went away, was renamed, or came back
// with a new ifindex, and re-attaches its programs there. Non-blocking: the
// agent polls it several times a second; it never owns a thread.
#pragma once

#include "agent/common/result.h"

namespace bwalloc {

class LinkWatcher {
 public:
  [[nodiscard]] static Result<LinkWatcher> open();
  LinkWatcher(LinkWatcher&& other) noexcept;
  LinkWatcher& operator=(LinkWatcher&&) = delete;
  ~LinkWatcher();

  // Drains every queued notification. True when any link was added,
  // removed or changed since the last call, or when the kernel dropped
  // notifications (queue overflow): the caller then re-checks everything.
  bool changed();

 private:
  explicit LinkWatcher(int fd) : fd_(fd) {}
  int fd_ = -1;
};

}  // namespace bwalloc
