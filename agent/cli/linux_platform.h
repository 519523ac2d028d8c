// The Linux platform of the composition root: SIGINT / SIGTERM through
// sigwait, the router's network namespace (`--netns`), the eBPF datapath
// or the pcap + tc fallback, neighbour-table discovery, capabilities
// dropped after start-up.
#pragma once

#include <signal.h>

#include <string>

#include "agent/runtime/platform.h"

namespace bwalloc {

class LinuxPlatform final : public Platform {
 public:
  // `netns`: the router's namespace ("" = the agent's own).
  explicit LinuxPlatform(std::string netns) : netns_(std::move(netns)) {}

  void prepare_stop_signals() override;
  [[nodiscard]] Result<void> in_router_namespace(const std::function<Result<void>()>& work) override;
  [[nodiscard]] Result<KernelParts> open_kernel_parts(const Config& config) override;
  [[nodiscard]] Result<PrivilegeView> restrict_privileges(const Config& config) override;
  std::string wait_for_stop() override;
  std::string stopping_message(std::string_view stopped_by, Backend backend) const override;

 private:
  std::string netns_;
  sigset_t stop_signals_{};
};

}  // namespace bwalloc
