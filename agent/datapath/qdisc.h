// Root qdisc and tc filter housekeeping over rtnetlink: EDT only paces when
// the egress qdisc honours skb->tstamp (fq, under mq on multi-queue
// devices), so the datapath installs it, remembers what was there, and puts
// the kernel's default back on detach.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "agent/common/result.h"
#include "agent/datapath/rtnetlink.h"

namespace bwalloc {

struct RootQdisc {
  std::string kind;  // "noqueue", "mq", "fq", "htb", ...
  uint32_t handle = 0;
};

// Our root handle for mq, so detach recognises what it installed.
constexpr uint32_t kBwallocQdiscHandle = 0xB0A0u << 16;

[[nodiscard]] Result<std::optional<RootQdisc>> read_root_qdisc(RtnlSocket& rtnl, int ifindex);

// "major:minor" in hex, as `tc` prints handles (e.g. "b0a0:0").
std::string format_qdisc_handle(uint32_t handle);

// Kinds the kernel or the distribution puts there by itself: replacing one
// loses no operator configuration, and deleting ours brings it back.
bool is_default_root_qdisc(const std::string& kind);

// Installs fq as the root qdisc, or mq with one fq per TX queue when the
// device has several. Fails with the kernel's reason (e.g. no sch_fq).
[[nodiscard]] Result<void> install_fq(RtnlSocket& rtnl, int ifindex, unsigned tx_queues);

// Deletes the root qdisc; the kernel then attaches the device's default.
[[nodiscard]] Result<void> delete_root_qdisc(RtnlSocket& rtnl, int ifindex);

// Number of tc filters under `parent` (e.g. the clsact ingress/egress hooks).
[[nodiscard]] Result<int> count_tc_filters(RtnlSocket& rtnl, int ifindex, uint32_t parent);

// TX queues of an interface (IFLA_NUM_TX_QUEUES). Asked over rtnetlink, not
// sysfs, because /sys shows the mounter's namespace, not the thread's.
[[nodiscard]] Result<unsigned> tx_queue_count(RtnlSocket& rtnl, int ifindex);

}  // namespace bwalloc
