// Interface reconciliation rules; see link_plan.h.
#include "agent/datapath/link_plan.h"

namespace bwalloc {

LinkPlan plan_link(const LinkObservation& seen) {
  LinkPlan plan;
  const std::string& name = seen.name;
  if (seen.current_ifindex != 0 && seen.current_ifindex == seen.attached_ifindex) {
    if (seen.missing_hooks.empty()) return plan;
    std::string hooks;
    for (const auto& h : seen.missing_hooks) hooks += (hooks.empty() ? "" : ", ") + h;
    plan.attach = true;
    plan.message = name + " lost bwalloc's programs (" + hooks + "); re-attached";
    return plan;
  }
  if (seen.attached_ifindex != 0) {
    plan.release_old = true;
    if (!seen.attached_now_name.empty() && seen.attached_now_name != name) {
      plan.message =
          name + " was renamed to " + seen.attached_now_name + ": no longer bwalloc's, programs removed from it";
    } else {
      plan.message = name + " (ifindex " + std::to_string(seen.attached_ifindex) + ") was deleted";
    }
  }
  if (seen.current_ifindex != 0) {
    plan.attach = true;
    std::string back = name + " is there with ifindex " + std::to_string(seen.current_ifindex) + ": programs attached";
    plan.message = plan.message.empty() ? back : plan.message + "; " + back;
  } else if (plan.release_old) {
    plan.problem = true;
    plan.message += "; nothing is counted or shaped on " + name + " until it comes back";
  }
  return plan;
}

}  // namespace bwalloc
