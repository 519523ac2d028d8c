// NetQos command builder; see netqos_command_builder.h.
#include "agent/fallback/netqos_command_builder.h"

#include <algorithm>
#include <cctype>
#include <set>

namespace bwalloc {

namespace {

constexpr std::string_view kNamePrefix = "bwalloc-";

// Run without a profile (a user's profile could print, prompt or redefine
// the cmdlets) and never prompt (there is nobody to answer).
std::vector<std::string> powershell_prefix() { return {"powershell.exe", "-NoProfile", "-NonInteractive", "-Command"}; }

std::string_view direction_suffix(Direction direction) { return direction == Direction::Up ? "up" : "down"; }

std::optional<uint64_t>& slot(NetQosThrottles& t, Direction direction) {
  return direction == Direction::Up ? t.up_bits_per_sec : t.down_bits_per_sec;
}

std::optional<uint64_t> slot(const NetQosThrottles& t, Direction direction) {
  return direction == Direction::Up ? t.up_bits_per_sec : t.down_bits_per_sec;
}

Result<void> check_address(const IpAddress& address) {
  if (!address.is_device_address()) {
    return Error{"NetQos policy for " + address.to_string() +
                 " refused: not a device address (unspecified, loopback, multicast, broadcast or link-local)"};
  }
  return {};
}

bool plain_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' || c == '/';
}

// Every token passes the whitelist before a command leaves the builder.
Result<std::vector<std::string>> checked(std::vector<std::string> argv) {
  for (const auto& token : argv) {
    if (!netqos_token_is_safe(token)) {
      return Error{"NetQos command refused: unsafe token '" + token.substr(0, 64) + "'"};
    }
  }
  return argv;
}

// Rates of one direction: 0 = unlimited (no policy).
Result<std::optional<uint64_t>> throttle_for_rate(uint64_t bits_per_sec, std::string_view what) {
  if (bits_per_sec == 0) return std::optional<uint64_t>{};
  if (bits_per_sec > kNetQosMaxBitsPerSec) {
    return Error{std::string(what) + " rate " + std::to_string(bits_per_sec) + " bit/s is above " +
                 std::to_string(kNetQosMaxBitsPerSec) + " bit/s; check the rates configuration"};
  }
  // Whole bytes per second, so what NetQos reports back equals what we asked.
  const uint64_t whole_bytes = bits_per_sec / 8 * 8;
  return std::optional<uint64_t>{std::max(whole_bytes, kNetQosMinBitsPerSec)};
}

}  // namespace

std::string netqos_policy_name(const IpAddress& address, Direction direction) {
  return std::string(kNamePrefix) + address.to_string() + "-" + std::string(direction_suffix(direction));
}

Result<std::pair<IpAddress, Direction>> parse_netqos_policy_name(std::string_view name) {
  auto refuse = [&] { return Error{"'" + std::string(name.substr(0, 80)) + "' is not a bwalloc NetQos policy name"}; };
  if (!name.starts_with(kNamePrefix)) return refuse();
  std::string_view rest = name.substr(kNamePrefix.size());
  Direction direction;
  if (rest.ends_with("-up")) {
    direction = Direction::Up;
    rest.remove_suffix(3);
  } else if (rest.ends_with("-down")) {
    direction = Direction::Down;
    rest.remove_suffix(5);
  } else {
    return refuse();
  }
  auto address = IpAddress::parse(rest);
  // The round trip rejects any spelling we would not have printed.
  if (!address || netqos_policy_name(*address, direction) != name) return refuse();
  return std::pair{*address, direction};
}

bool netqos_token_is_safe(std::string_view token) {
  if (token.empty() || token.size() > 128) return false;
  if (token == "-Confirm:$false") return true;
  if (token.size() >= 3 && token.front() == '\'' && token.back() == '\'') token = token.substr(1, token.size() - 2);
  return std::all_of(token.begin(), token.end(), plain_char);
}

Result<NetQosThrottles> netqos_throttles(const DevicePolicy& policy) {
  if (auto ok = check_address(policy.address); !ok) return ok.error();
  if (policy.priority == Priority::Blocked) {
    // NetQos cannot drop: the slowest throttle is the closest it gets.
    return NetQosThrottles{kNetQosMinBitsPerSec, kNetQosMinBitsPerSec};
  }
  if (policy.exempt_all) return NetQosThrottles{};
  const std::string who = policy.address.to_string();
  auto up = throttle_for_rate(policy.up_rate_bits_per_sec, who + " upload");
  if (!up) return up.error();
  auto down = throttle_for_rate(policy.down_rate_bits_per_sec, who + " download");
  if (!down) return down.error();
  return NetQosThrottles{*up, *down};
}

Result<std::vector<std::string>> netqos_new_command(const IpAddress& address, Direction direction,
                                                    uint64_t bits_per_sec) {
  if (auto ok = check_address(address); !ok) return ok.error();
  if (bits_per_sec < kNetQosMinBitsPerSec || bits_per_sec > kNetQosMaxBitsPerSec || bits_per_sec % 8 != 0) {
    return Error{"NetQos throttle " + std::to_string(bits_per_sec) +
                 " bit/s refused: it must be a whole number of "
                 "bytes per second between " +
                 std::to_string(kNetQosMinBitsPerSec) + " and " + std::to_string(kNetQosMaxBitsPerSec) + " bit/s"};
  }
  auto argv = powershell_prefix();
  const std::string prefix = address.to_string() + (address.is_v4() ? "/32" : "/128");
  argv.insert(argv.end(), {"New-NetQosPolicy", "-Name", "'" + netqos_policy_name(address, direction) + "'",
                           direction == Direction::Down ? "-IPDstPrefixMatchCondition" : "-IPSrcPrefixMatchCondition",
                           prefix, "-ThrottleRateActionBitsPerSecond", std::to_string(bits_per_sec),
                           // ActiveStore: gone at reboot, like the agent's other runtime state.
                           "-PolicyStore", "ActiveStore", "-ErrorAction", "Stop"});
  return checked(std::move(argv));
}

Result<std::vector<std::string>> netqos_remove_command(const IpAddress& address, Direction direction) {
  if (auto ok = check_address(address); !ok) return ok.error();
  auto argv = powershell_prefix();
  argv.insert(argv.end(), {"Remove-NetQosPolicy", "-Name", "'" + netqos_policy_name(address, direction) + "'",
                           "-PolicyStore", "ActiveStore", "-Confirm:$false", "-ErrorAction", "Stop"});
  return checked(std::move(argv));
}

Result<std::vector<NetQosStep>> plan_netqos_apply(const NetQosState& current, const std::vector<DevicePolicy>& wanted) {
  std::vector<NetQosStep> steps;
  std::set<IpAddress> seen;
  for (const auto& policy : wanted) {
    if (!seen.insert(policy.address).second) {
      return Error{"NetQos plan refused: " + policy.address.to_string() + " has two policies in one update"};
    }
    auto target = netqos_throttles(policy);
    if (!target) return target.error();
    NetQosThrottles held;
    if (auto it = current.find(policy.address); it != current.end()) held = it->second;
    for (auto direction : {Direction::Down, Direction::Up}) {
      const auto before = slot(held, direction);
      const auto after = slot(*target, direction);
      if (before == after) continue;  // idempotent: nothing to do
      if (before) {
        auto remove = netqos_remove_command(policy.address, direction);
        if (!remove) return remove.error();
        steps.push_back(NetQosStep{std::move(*remove), policy.address, direction, std::nullopt});
      }
      if (after) {
        auto add = netqos_new_command(policy.address, direction, *after);
        if (!add) return add.error();
        steps.push_back(NetQosStep{std::move(*add), policy.address, direction, after});
      }
    }
  }
  return steps;
}

std::vector<NetQosStep> plan_netqos_remove(const NetQosState& current, const IpAddress& address) {
  std::vector<NetQosStep> steps;
  auto it = current.find(address);
  if (it == current.end()) return steps;
  for (auto direction : {Direction::Down, Direction::Up}) {
    if (!slot(it->second, direction)) continue;
    // The address is in the state only because a command for it was built.
    if (auto remove = netqos_remove_command(address, direction)) {
      steps.push_back(NetQosStep{std::move(*remove), address, direction, std::nullopt});
    }
  }
  return steps;
}

std::vector<std::vector<std::string>> netqos_batches(const std::vector<std::vector<std::string>>& commands,
                                                     size_t max_chars) {
  const auto prefix = powershell_prefix();
  std::vector<std::vector<std::string>> batches;
  size_t chars = 0;
  for (const auto& command : commands) {
    size_t length = 0;
    for (size_t i = prefix.size(); i < command.size(); ++i) length += command[i].size() + 1;
    const bool fits = !batches.empty() && chars + length + 2 <= max_chars;
    if (!fits) {
      batches.push_back(prefix);
      chars = 0;
      for (const auto& token : prefix) chars += token.size() + 1;
    } else {
      batches.back().push_back(";");
      chars += 2;
    }
    batches.back().insert(batches.back().end(), command.begin() + static_cast<long>(prefix.size()), command.end());
    chars += length;
  }
  return batches;
}

void apply_netqos_step(NetQosState& state, const NetQosStep& step) {
  NetQosThrottles& held = state[step.address];
  slot(held, step.direction) = step.throttle_after;
  if (held == NetQosThrottles{}) state.erase(step.address);
}

}  // namespace bwalloc
