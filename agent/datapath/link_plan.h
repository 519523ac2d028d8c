// What to do about one configured interface (the LAN or the WAN), from what
// the kernel says about it now. Pure: interface_hooks.cpp observes
// (observe_link), ebpf_datapath.cpp acts.
// Rules: the configured name is what is ours. An interface renamed away is
// no longer ours (our programs come off it); the name coming back, renamed
// or recreated with a new ifindex, gets the programs attached again; an
// interface that lost some of our programs gets them back.
#pragma once

#include <string>
#include <vector>

namespace bwalloc {

struct LinkObservation {
  std::string name;                        // configured name, e.g. "lan0"
  int current_ifindex = 0;                 // the ifindex that name has now; 0 = no such interface
  int attached_ifindex = 0;                // where our programs were last attached; 0 = nowhere
  std::string attached_now_name;           // the name attached_ifindex has now; "" = it is gone
  std::vector<std::string> missing_hooks;  // ours, absent on current_ifindex (when it equals attached_ifindex)
};

struct LinkPlan {
  bool release_old = false;  // take our programs and stale link pins off attached_ifindex
  bool attach = false;       // attach everything on current_ifindex
  bool problem = false;      // the interface is missing: nothing counted or shaped there
  std::string message;       // for the log and the event list; "" when nothing changed
};

LinkPlan plan_link(const LinkObservation& seen);

}  // namespace bwalloc
