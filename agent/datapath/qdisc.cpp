// rtnetlink qdisc and filter requests; see qdisc.h.
#include "agent/datapath/qdisc.h"

#include <sys/socket.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include <cstdio>
#include <cstring>
#include <linux/if_link.h>

namespace bwalloc {

namespace {
tcmsg make_tcmsg(int ifindex, uint32_t parent, uint32_t handle) {
  tcmsg tc{};
  tc.tcm_family = AF_UNSPEC;
  tc.tcm_ifindex = ifindex;
  tc.tcm_parent = parent;
  tc.tcm_handle = handle;
  return tc;
}

Result<void> add_qdisc(RtnlSocket& rtnl, int ifindex, uint32_t parent, uint32_t handle, const char* kind,
                       uint16_t flags) {
  NetlinkMessage message(RTM_NEWQDISC, NLM_F_CREATE | flags);
  message.append_fixed(make_tcmsg(ifindex, parent, handle));
  message.add_string_attr(TCA_KIND, kind);
  return rtnl.request(message);
}
}  // namespace

Result<std::optional<RootQdisc>> read_root_qdisc(RtnlSocket& rtnl, int ifindex) {
  NetlinkMessage message(RTM_GETQDISC, 0);
  message.append_fixed(make_tcmsg(0, 0, 0));
  std::optional<RootQdisc> root;
  auto dumped = rtnl.dump(message, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWQDISC) return;
    auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(&h));
    if (tc->tcm_ifindex != ifindex || tc->tcm_parent != TC_H_ROOT) return;
    RootQdisc found;
    found.handle = tc->tcm_handle;
    for_each_rtattr(h, sizeof(tcmsg), [&](uint16_t type, const void* data, size_t len) {
      if (type == TCA_KIND && len > 0)
        found.kind.assign(static_cast<const char*>(data), strnlen(static_cast<const char*>(data), len));
    });
    root = found;
  });
  if (!dumped) return make_error("list qdiscs", dumped.message());
  return root;
}

std::string format_qdisc_handle(uint32_t handle) {
  char text[16];
  std::snprintf(text, sizeof text, "%x:%x", handle >> 16, handle & 0xFFFFu);
  return text;
}

bool is_default_root_qdisc(const std::string& kind) {
  return kind.empty() || kind == "noqueue" || kind == "pfifo_fast" || kind == "mq" || kind == "fq_codel" ||
         kind == "pfifo" || kind == "noop";
}

Result<void> install_fq(RtnlSocket& rtnl, int ifindex, unsigned tx_queues) {
  // A root fq first, also on multi-queue devices: a kernel without sch_fq
  // refuses the unknown kind before it touches the root, so nothing changes.
  // Starting with mq would swap the root qdisc twice (mq in, then out when
  // fq fails) on every agent start, and each swap drops packets in flight.
  auto added = add_qdisc(rtnl, ifindex, TC_H_ROOT, 0, "fq", NLM_F_REPLACE);
  if (!added) return make_error("install fq", added.message());
  if (tx_queues <= 1) return {};
  auto mq = add_qdisc(rtnl, ifindex, TC_H_ROOT, kBwallocQdiscHandle, "mq", NLM_F_REPLACE);
  if (!mq) return make_error("install mq", mq.message());
  for (unsigned queue = 1; queue <= tx_queues; ++queue) {
    auto fq = add_qdisc(rtnl, ifindex, kBwallocQdiscHandle | queue, 0, "fq", NLM_F_REPLACE);
    if (!fq) {
      (void)delete_root_qdisc(rtnl, ifindex);  // leave no half-built tree behind
      return make_error("install fq under mq queue " + std::to_string(queue), fq.message());
    }
  }
  return {};
}

Result<void> delete_root_qdisc(RtnlSocket& rtnl, int ifindex) {
  NetlinkMessage message(RTM_DELQDISC, 0);
  message.append_fixed(make_tcmsg(ifindex, TC_H_ROOT, 0));
  auto deleted = rtnl.request(message);
  if (!deleted) return make_error("delete root qdisc", deleted.message());
  return {};
}

Result<int> count_tc_filters(RtnlSocket& rtnl, int ifindex, uint32_t parent) {
  NetlinkMessage message(RTM_GETTFILTER, 0);
  message.append_fixed(make_tcmsg(ifindex, parent, 0));
  int count = 0;
  auto dumped = rtnl.dump(message, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWTFILTER) return;
    auto* tc = static_cast<const tcmsg*>(NLMSG_DATA(&h));
    // The kernel answers with one message per filter chain head and per
    // filter; a filter carries a handle, a chain head does not.
    if (tc->tcm_ifindex == ifindex && tc->tcm_handle != 0) ++count;
  });
  if (!dumped) return make_error("list tc filters", dumped.message());
  return count;
}

Result<unsigned> tx_queue_count(RtnlSocket& rtnl, int ifindex) {
  NetlinkMessage message(RTM_GETLINK, 0);
  ifinfomsg info{};
  info.ifi_family = AF_UNSPEC;
  message.append_fixed(info);
  unsigned queues = 0;
  auto dumped = rtnl.dump(message, [&](const nlmsghdr& h) {
    if (h.nlmsg_type != RTM_NEWLINK) return;
    auto* link = static_cast<const ifinfomsg*>(NLMSG_DATA(&h));
    if (link->ifi_index != ifindex) return;
    for_each_rtattr(h, sizeof(ifinfomsg), [&](uint16_t type, const void* data, size_t len) {
      if (type == IFLA_NUM_TX_QUEUES && len >= sizeof(uint32_t)) {
        uint32_t value;
        std::memcpy(&value, data, sizeof value);
        queues = value;
      }
    });
  });
  if (!dumped) return make_error("read TX queue count", dumped.message());
  return queues == 0 ? 1u : queues;
}

}  // namespace bwalloc
