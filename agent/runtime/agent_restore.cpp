// Agent::restore: the agent's start from what the store kept and the
// kernel's counters still hold.
#include "agent/common/device_address.h"
#include "agent/common/log.h"
#include "agent/config/saved_settings.h"
#include "agent/runtime/agent.h"
#include "agent/runtime/counter_baseline_file.h"
#include "agent/runtime/lifecycle_messages.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "agent";
}  // namespace

Result<void> Agent::restore() {
  std::lock_guard owner(mailbox_.owner_lock());
  if (read_router_addresses_) router_addresses_ = read_router_addresses_();
  // What the start could not take back: said in the log and the event list.
  TickRecord refused;
  refused.ts_ms = now_ms();
  auto refuse = [&](const std::string& why, std::optional<IpAddress> device = std::nullopt) {
    log_error(kLog, why);
    refused.events.push_back(Event{clock_.wall_now(), EventLevel::Error, why, "agent", device});
  };
  auto stored_config = store_->config_values();
  if (!stored_config) return Error{"read saved settings: " + stored_config.message()};
  LoadedSettings settings = load_saved_settings(config_, *stored_config);
  config_ = std::move(settings.config);
  // Each row that cannot load costs only itself, and says so at every start
  // until the setting is saved again.
  for (const auto& why : settings.skipped) refuse(why + "; the config file's value holds until it is set again");
  auto devices = store_->devices();
  if (!devices) return Error{"read devices: " + devices.message()};
  for (const auto& record : *devices) {
    // Rows an older version let the API make (0.0.0.0, multicast, the
    // router itself) are left out: their policies must not reach the kernel.
    if (auto device = check_device_address(record.ip, router_addresses_); !device) continue;
    devices_[record.ip] = restored_device(record);
  }
  auto blocks = store_->blocked();
  if (!blocks) return Error{"read blocked devices: " + blocks.message()};
  size_t restored_blocks = 0;
  for (const auto& b : *blocks) {
    if (auto device = check_device_address(b.ip, router_addresses_); !device) {
      refuse("dropped the saved block of " + b.ip.to_string() + " (" + device.message() + ")", b.ip);
      refused.unblocks.push_back(b.ip);
      continue;
    }
    device_owned(b.ip).alloc.priority = Priority::Blocked;
    ++restored_blocks;
  }
  if (!refused.events.empty()) persist_owned(std::move(refused));
  const size_t saved_devices = devices_.size();
  // Totals come from the kernel's counters, which outlive the agent: take
  // them now so the API never shows a device's total fall back to 0 while
  // a restarted agent waits for its first tick.
  if (auto counters = datapath_.read_counters()) {
    for (const auto& c : *counters) {
      if (!check_device_address(c.address, router_addresses_)) continue;
      DeviceState& d = device_owned(c.address);
      d.up_total = c.up_bytes;
      d.down_total = c.down_bytes;
    }
  }
  if (!counter_baseline_path_.empty()) {
    auto saved = load_baselines(counter_baseline_path_);
    if (!saved) {
      log_warn(kLog, saved.message());
    } else if (saved->has_value()) {
      // The first tick then records the bytes of the downtime instead of
      // only setting a baseline: a restart leaves no hole in the history.
      bool resumed = sampler_.resume((*saved)->devices, (*saved)->read_at, clock_.mono_now());
      log_info(kLog, resumed ? "resuming the counters of " + std::to_string((*saved)->devices.size()) +
                                   " devices from the previous agent's last tick"
                             : "the previous agent's counter baselines are too old; starting afresh");
    }
  }
  apply_policies_owned(true);
  // Devices the datapath shows that the database did not know are new, not
  // restored (the simulator's on a first start).
  log_info(kLog, restored_message(saved_devices, restored_blocks, devices_.size() - saved_devices, config_.store.path));
  publish_owned();
  return {};
}

}  // namespace bwalloc
