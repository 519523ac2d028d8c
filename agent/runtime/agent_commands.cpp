// The admin commands' bodies, run on the tick thread (see agent.h): each
// changes the devices or settings, pushes what changed to the datapath and
// ends in finish_command (one record, one ADMIN event, one snapshot).
#include "agent/common/log.h"
#include "agent/common/utf8.h"
#include "agent/config/config_keys.h"
#include "agent/config/config_loader.h"
#include "agent/runtime/admin_messages.h"
#include "agent/runtime/agent.h"

namespace bwalloc {

namespace {
constexpr size_t kMaxReasonBytes = 500;  // a block reason, as the original kept it
}  // namespace

TickRecord Agent::command_record() const {
  TickRecord record;
  record.ts_ms = now_ms();
  return record;
}

void Agent::finish_command(TickRecord record, std::optional<IpAddress> ip, const std::string& actor,
                           std::string message) {
  record.events.push_back(Event{clock_.wall_now(), EventLevel::Admin, std::move(message), actor, ip});
  persist_owned(std::move(record));
  publish_owned();
}

Result<void> Agent::set_priority_owned(const IpAddress& ip, std::optional<Priority> priority,
                                       const std::string& actor) {
  if (priority == Priority::Blocked) return block_owned(ip, "set to Blocked by " + actor, actor);
  if (auto device = check_device_owned(ip); !device) return device;
  DeviceState& d = device_owned(ip);
  const Priority before = d.alloc.priority;
  TickRecord record = command_record();
  if (priority) {
    d.alloc.priority = *priority;
    d.alloc.manual = true;
  } else {
    d.alloc.manual = false;  // the allocator decides again from the next tick
  }
  d.alloc.pending.reset();
  d.alloc.pending_ticks = 0;
  if (before == Priority::Blocked) record.unblocks.push_back(ip);
  d.policy_applied = false;
  apply_policies_owned(false);
  record.devices.push_back(stored_record(ip, d));
  finish_command(std::move(record), ip, actor, priority_set_message(ip, priority, actor));
  return {};
}

Result<void> Agent::block_owned(const IpAddress& ip, const std::string& given_reason, const std::string& actor) {
  // Blocking 0.0.0.0 would drop every DHCP discovery, a multicast group
  // every device's mDNS: refused before any row is made.
  if (auto device = check_device_owned(ip); !device) return device;
  // Cut between characters: a character split at the cap made every later
  // /api/blocked and /api/events body invalid UTF-8.
  const std::string reason = truncate_utf8(repair_utf8(given_reason), kMaxReasonBytes);
  DeviceState& d = device_owned(ip);
  d.alloc = AllocatorState{};
  d.alloc.priority = Priority::Blocked;
  d.policy_applied = false;
  apply_policies_owned(false);
  TickRecord record = command_record();
  record.blocks.push_back(BlockRecord{ip, reason, record.ts_ms});
  record.devices.push_back(stored_record(ip, d));
  finish_command(std::move(record), ip, actor, blocked_message(ip, actor, reason));
  return {};
}

Result<void> Agent::unblock_owned(const IpAddress& ip, const std::string& actor) {
  if (auto device = check_device_owned(ip); !device) return device;
  DeviceState& d = device_owned(ip);
  d.alloc = AllocatorState{};
  d.policy_applied = false;
  apply_policies_owned(false);
  TickRecord record = command_record();
  record.unblocks.push_back(ip);
  record.devices.push_back(stored_record(ip, d));
  finish_command(std::move(record), ip, actor, unblocked_message(ip, actor));
  return {};
}

void Agent::merge_neighbours_owned(const std::vector<DiscoveredDevice>& found, const std::string& actor) {
  TickRecord record = command_record();
  for (const auto& f : found) {
    if (!check_device_owned(f.ip)) continue;
    DeviceState& d = device_owned(f.ip);
    // Names and addresses only: discovery never changes a priority.
    if (!f.mac.empty()) d.mac = f.mac;
    if (!f.hostname.empty()) d.hostname = f.hostname;
    if (!f.vendor.empty()) d.vendor = f.vendor;
    record.devices.push_back(stored_record(f.ip, d));
  }
  apply_policies_owned(false);  // new devices start at Normal's rate
  // The periodic scan is no admin's: it writes its rows without an event.
  if (actor == "discovery") {
    persist_owned(std::move(record));
    publish_owned();
    return;
  }
  finish_command(std::move(record), std::nullopt, actor, scan_message(actor, found.size()));
}

Result<void> Agent::update_config_owned(const std::vector<std::pair<std::string, std::string>>& changes,
                                        const std::string& actor) {
  auto changed = with_changes(config_, changes, true);
  if (!changed) return changed.error();
  const bool rates_changed = changed->rates.high_bits_per_sec != config_.rates.high_bits_per_sec ||
                             changed->rates.normal_bits_per_sec != config_.rates.normal_bits_per_sec ||
                             changed->rates.low_bits_per_sec != config_.rates.low_bits_per_sec;
  if (auto settings = datapath_.update_settings(changed->datapath); !settings) {
    return Error{"apply datapath settings: " + settings.message()};
  }
  config_ = *changed;
  set_log_level(config_.log_level);
  if (rates_changed) apply_policies_owned(true);
  TickRecord record = command_record();
  for (const auto& [key, value] : changes) {
    const ConfigKey* k = find_config_key(key);
    record.config.emplace_back(key, k ? k->get(config_) : value);
  }
  std::string message = settings_message(actor, record.config);
  finish_command(std::move(record), std::nullopt, actor, std::move(message));
  return {};
}

}  // namespace bwalloc
