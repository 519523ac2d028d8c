// NetQosShaper; see netqos_shaper.h.
#include "agent/fallback/netqos_shaper.h"

#include <set>

namespace bwalloc {

Command netqos_remove_all_command() {
  return Command{
      {"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Get-NetQosPolicy", "-PolicyStore", "ActiveStore",
       "|", "Where-Object", "Name", "-like", "'bwalloc-*'", "|", "Remove-NetQosPolicy", "-Confirm:$false"},
      true};
}

Result<std::vector<Command>> NetQosShaper::plan(const std::vector<DevicePolicy>& wanted) const {
  std::vector<Command> commands;
  NetQosState current = committed_;
  if (!known_) {
    commands.push_back(netqos_remove_all_command());
    current.clear();
  }
  // Devices no longer listed are unshaped: their policies go first.
  std::set<IpAddress> listed;
  for (const auto& p : wanted) listed.insert(p.address);
  std::vector<std::vector<std::string>> changes;
  for (const auto& [address, held] : current) {
    if (listed.contains(address)) continue;
    for (auto& step : plan_netqos_remove(current, address)) changes.push_back(std::move(step.argv));
  }
  auto steps = plan_netqos_apply(current, wanted);
  if (!steps) return steps.error();
  for (auto& step : *steps) changes.push_back(std::move(step.argv));
  for (auto& batch : netqos_batches(changes)) commands.push_back(Command{std::move(batch), false});
  return commands;
}

void NetQosShaper::commit(const std::vector<DevicePolicy>& wanted) {
  committed_.clear();
  for (const auto& p : wanted) {
    // plan() accepted these, so every one converts; unlimited ones hold nothing.
    auto throttles = netqos_throttles(p);
    if (throttles && *throttles != NetQosThrottles{}) committed_[p.address] = *throttles;
  }
  known_ = true;
}

std::vector<Command> NetQosShaper::teardown() {
  committed_.clear();
  known_ = false;
  return {netqos_remove_all_command()};
}

}  // namespace bwalloc
