// NetQos command builder: turns the per-device policies the agent wants
// into the PowerShell commands (New-NetQosPolicy / Remove-NetQosPolicy) that
// make Windows hold them, as argv vectors run without a shell. Pure: it
// only plans; the Windows command runner executes the steps one by one.
//
// Every value in a command comes from a validated source: the policy name
// and the prefix only from IpAddress formatting, the rate only from a
// bounded integer. A last check (netqos_token_is_safe) refuses any token
// with a character PowerShell could read as code, so a bug upstream can
// never turn into an injected command.
//
// What NetQos can and cannot do (said here because it shapes the plan):
// - It throttles; it cannot drop. Blocked becomes the lowest throttle
//   (kNetQosMinBitsPerSec) in both directions, which starves a device but
//   does not cut it off the way the eBPF datapath's XDP_DROP does.
// - It acts on traffic the Windows host itself sends. "down" (destination =
//   device) is the host's own traffic to the device; "up" (source = device)
//   only matches when the host forwards the device's packets (Internet
//   Connection Sharing or routing), which NetQos does not guarantee.
// - It has no fast lane: a NetQos throttle is one rate per policy with no
//   queue order inside it, so priority ports are throttled with the rest of
//   the device's traffic and never sent first (their bytes count against the
//   limit everywhere, so nothing is lost but their precedence). Unlimited
//   ports are not honoured either: one more policy per port and direction
//   would be needed, so every port of a throttled device is throttled.
//   Counting still tells priority-port bytes apart.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/common/direction.h"
#include "agent/common/ip_address.h"
#include "agent/common/result.h"
#include "agent/api/datapath.h"

namespace bwalloc {

// The slowest throttle bwalloc asks NetQos for (1 kB/s): what Blocked gets.
inline constexpr uint64_t kNetQosMinBitsPerSec = 8'000;
// A sanity bound; anything faster is a bug upstream, not a rate.
inline constexpr uint64_t kNetQosMaxBitsPerSec = 1'000'000'000'000ull;  // 1 Tbit/s

// The throttles NetQos holds for one device; nullopt = no policy that way.
struct NetQosThrottles {
  std::optional<uint64_t> up_bits_per_sec;
  std::optional<uint64_t> down_bits_per_sec;
  bool operator==(const NetQosThrottles&) const = default;
};

// What bwalloc believes NetQos holds, per device.
using NetQosState = std::map<IpAddress, NetQosThrottles>;

// One command and what NetQos holds for (address, direction) once it
// succeeded, so a runner that stops at a failed step keeps an exact state.
struct NetQosStep {
  std::vector<std::string> argv;  // argv[0] = "powershell.exe"
  IpAddress address;
  Direction direction = Direction::Down;
  std::optional<uint64_t> throttle_after;  // nullopt: the policy is gone
};

// "bwalloc-10.0.0.2-down", "bwalloc-fd00:10::2-up".
std::string netqos_policy_name(const IpAddress& address, Direction direction);

// The inverse, for policies found on the system (e.g. left by a crash):
// only names this builder could have made are accepted.
[[nodiscard]] Result<std::pair<IpAddress, Direction>> parse_netqos_policy_name(std::string_view name);

// What one device's policy becomes in NetQos: Blocked -> the minimum both
// ways; exempt_all or rate 0 -> no policy; other rates rounded down to whole
// bytes per second (the pacer stores bytes/s) and raised to the minimum.
[[nodiscard]] Result<NetQosThrottles> netqos_throttles(const DevicePolicy& policy);

// The steps that take NetQos from `current` to holding `wanted` for these
// devices (others keep theirs). A changed direction is removed before it is
// added again (New-NetQosPolicy refuses an existing name). Re-applying what
// `current` already holds yields no steps. Fails, with no steps, if any
// policy is invalid.
[[nodiscard]] Result<std::vector<NetQosStep>> plan_netqos_apply(const NetQosState& current,
                                                                const std::vector<DevicePolicy>& wanted);

// The steps that remove every policy bwalloc holds for `address`.
std::vector<NetQosStep> plan_netqos_remove(const NetQosState& current, const IpAddress& address);

// Joins single commands (each a full powershell.exe argv from this builder)
// into as few PowerShell runs as fit in `max_chars` of command line, the
// cmdlets separated by ";". Starting PowerShell costs far more than a
// cmdlet, and every cmdlet carries -ErrorAction Stop, so the first failure
// ends its run with a non-zero exit (what ran before it is then unknown:
// the shaper rebuilds). A command longer than `max_chars` gets a run of its own.
std::vector<std::vector<std::string>> netqos_batches(const std::vector<std::vector<std::string>>& commands,
                                                     size_t max_chars = 8000);

// Applies a step that ran successfully to `state`.
void apply_netqos_step(NetQosState& state, const NetQosStep& step);

// The single commands (argv) the plans are made of.
[[nodiscard]] Result<std::vector<std::string>> netqos_new_command(const IpAddress& address, Direction direction,
                                                                  uint64_t bits_per_sec);
[[nodiscard]] Result<std::vector<std::string>> netqos_remove_command(const IpAddress& address, Direction direction);

// True when `token` holds only characters that mean nothing special to
// PowerShell or to the Windows command-line parser: letters, digits and
// - . : / plus the two exact forms the builder uses ('name' and
// -Confirm:$false). Quotes inside a name, ; | & $( ) ` { } spaces and
// control characters all fail.
bool netqos_token_is_safe(std::string_view token);

}  // namespace bwalloc
