// EbpfDatapath: the kernel datapath. Loads bpf/bwalloc.bpf.c through its
// skeleton, adopts compatible pinned maps (so counters, blocks and limits
// survive an agent restart), attaches XDP/tc programs without touching other
// tools' programs, and keeps the policy map in line with the agent.
#pragma once

#include <memory>

#include "agent/api/datapath.h"
#include "agent/datapath/datapath_config.h"

namespace bwalloc {

class EbpfDatapath final : public Datapath {
 public:
  // Loads, adopts pins, attaches and pins. Errors name the interface, the
  // hook and the kernel's reason.
  [[nodiscard]] static Result<std::unique_ptr<EbpfDatapath>> open(const DatapathConfig& config);
  ~EbpfDatapath() override;  // leaves programs attached and pinned (shaping goes on)

  Result<std::vector<DeviceCounters>> read_counters() override;
  Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override;
  Result<void> remove_policy(const IpAddress& address) override;
  DatapathStatus status() const override;
  std::vector<DatapathNotice> maintain_interfaces() override;

  // Runtime settings (horizon, CE target, ECN, priority and unlimited ports) without reload.
  Result<void> update_settings(const DatapathConfig& config) override;

  struct Impl;

 private:
  explicit EbpfDatapath(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Status from the pins alone, for `bwalloc status` while the agent may or may
// not be running.
[[nodiscard]] Result<DatapathStatus> read_pinned_status(const DatapathConfig& config);

// Removes exactly what bwalloc attached (its XDP link, its tc filters, the
// clsact qdisc only if it created it and nothing else uses it, its fq qdiscs
// with the previous root qdisc restored) and its pins. Running it again
// when nothing is attached succeeds.
[[nodiscard]] Result<void> detach_datapath(const DatapathConfig& config);

}  // namespace bwalloc
