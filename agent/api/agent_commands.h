// AgentCommands: what an admin may change in the running agent. Each call is
// handed to the agent's tick thread, which runs it in the datapath's
// namespace between ticks and answers; the call returns that answer, or an
// error saying the agent did not answer in time. Any thread may call these.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "agent/api/agent_views.h"
#include "agent/common/ip_address.h"
#include "agent/common/priority.h"
#include "agent/common/result.h"

namespace bwalloc {

class AgentCommands {
 public:
  virtual ~AgentCommands() = default;

  // priority = nullopt releases a manual override (back to auto).
  [[nodiscard]] virtual Result<void> set_priority(const IpAddress& ip, std::optional<Priority> priority,
                                                  const std::string& actor) = 0;
  [[nodiscard]] virtual Result<void> block(const IpAddress& ip, const std::string& reason,
                                           const std::string& actor) = 0;
  // Back to auto (Normal until the allocator decides).
  [[nodiscard]] virtual Result<void> unblock(const IpAddress& ip, const std::string& actor) = 0;
  [[nodiscard]] virtual Result<void> set_auto_mode(bool on, const std::string& actor) = 0;
  // Scans the neighbour table now; returns the devices known afterwards.
  [[nodiscard]] virtual Result<std::vector<DeviceView>> discover(const std::string& actor) = 0;
  // Applies "section.key" -> value changes atomically (all or none); only
  // runtime keys are accepted; errors name the key and what is accepted.
  [[nodiscard]] virtual Result<void> update_config(const std::vector<std::pair<std::string, std::string>>& changes,
                                                   const std::string& actor) = 0;
};

}  // namespace bwalloc
