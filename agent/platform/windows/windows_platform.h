// The Windows platform of the composition root: Ctrl+C, Ctrl+Break and the
// console's close through SetConsoleCtrlHandler, no network namespaces,
// Npcap capture with NetQos shaping (or NetQos alone without Npcap), no
// neighbour table to scan (devices come from the capture), no capabilities.
#pragma once

#include "agent/runtime/platform.h"

namespace bwalloc {

class WindowsPlatform final : public Platform {
 public:
  void prepare_stop_signals() override;
  [[nodiscard]] Result<void> in_router_namespace(const std::function<Result<void>()>& work) override;
  [[nodiscard]] Result<KernelParts> open_kernel_parts(const Config& config) override;
  [[nodiscard]] Result<PrivilegeView> restrict_privileges(const Config& config) override;
  std::string wait_for_stop() override;
  std::string stopping_message(std::string_view stopped_by, Backend backend) const override;
};

}  // namespace bwalloc
