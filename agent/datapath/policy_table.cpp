// Policy, slot and pacing-clock map writes; see policy_table.h.
#include "agent/datapath/policy_table.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "agent/common/log.h"
#include "agent/datapath/map_codec.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }
}  // namespace

Result<void> PolicyTable::restore() {
  auto policies = read_all_policies(fds_.policy);
  if (!policies) return policies.error();
  for (const auto& [ip, p] : *policies) {
    if (!slots_.restore(ip, p.slot)) {
      log_warn(kLog, "adopted policy of " + ip.to_string() + " has an unusable slot " + std::to_string(p.slot) +
                         "; it gets a new one");
      continue;
    }
    held_[ip] = decode_policy(ip, p);
  }
  return {};
}

int PolicyTable::write_policy(const DevicePolicy& wanted, uint32_t slot) {
  bwa_policy value = encode_policy(wanted, slot);
  bwa_addr key = to_bwa_addr(wanted.address);
  return bpf_map_update_elem(fds_.policy, &key, &value, BPF_ANY) == 0 ? 0 : errno;
}

Result<void> PolicyTable::apply(const std::vector<DevicePolicy>& requested) {
  PolicyGenerationBump bump(fds_.settings);  // the programs' policy copies expire on every way out
  for (const DevicePolicy& wanted : policies_to_write(over_capacity_, requested)) {
    if (already_held(held_, wanted)) continue;

    bool had_slot = slots_.slot_of(wanted.address).has_value();
    auto slot = slots_.assign(wanted.address);
    if (!slot) {
      return Error{"no free shaping slot for " + wanted.address.to_string() + " (all " +
                   std::to_string(BWA_MAX_SLOTS - 1) + " in use)"};
    }
    if (!had_slot) {
      // Slot map and pacing clocks first, so WAN egress never pairs a
      // fresh policy with the previous owner's address or clock.
      bwa_addr addr = to_bwa_addr(wanted.address);
      bwa_edt_state reset{};
      uint32_t up = *slot * 2 + BWA_DIR_UP, down = *slot * 2 + BWA_DIR_DOWN;
      if (bpf_map_update_elem(fds_.slot_addr, &*slot, &addr, BPF_ANY) != 0 ||
          bpf_map_update_elem(fds_.edt, &up, &reset, BPF_ANY) != 0 ||
          bpf_map_update_elem(fds_.edt, &down, &reset, BPF_ANY) != 0) {
        return make_error("write slot of " + wanted.address.to_string(), errno_text(errno));
      }
    }
    int written = write_policy(wanted, *slot);
    if (written == E2BIG) {
      if (auto displaced = plan_displacement(wanted, held_)) {
        if (auto removed = remove(displaced->address); removed) {
          over_capacity_[displaced->address] = *displaced;
          log_warn(kLog, "policy map full (datapath.max_devices = " + std::to_string(max_devices_) +
                             "): " + displaced->address.to_string() + " loses its limit so the block of " +
                             wanted.address.to_string() + " holds");
          slot = slots_.assign(wanted.address);
          if (!slot) return Error{"no free shaping slot for " + wanted.address.to_string()};
          written = write_policy(wanted, *slot);
        }
      }
    }
    if (written == E2BIG) {
      // Reported in the status (devices_over_capacity), retried each apply.
      if (!over_capacity_.contains(wanted.address)) {
        log_warn(kLog, "policy map full (datapath.max_devices = " + std::to_string(max_devices_) +
                           "): " + wanted.address.to_string() + " is counted but not " +
                           (wanted.priority == Priority::Blocked ? "blocked" : "limited") +
                           "; raise datapath.max_devices");
      }
      over_capacity_[wanted.address] = wanted;
      if (!had_slot) slots_.release(wanted.address);
      continue;
    }
    if (written != 0) return make_error("write policy of " + wanted.address.to_string(), errno_text(written));
    over_capacity_.erase(wanted.address);
    held_[wanted.address] = wanted;
  }
  return {};
}

Result<void> PolicyTable::remove(const IpAddress& address) {
  PolicyGenerationBump bump(fds_.settings);
  bwa_addr key = to_bwa_addr(address);
  if (bpf_map_delete_elem(fds_.policy, &key) != 0 && errno != ENOENT) {
    return make_error("remove policy of " + address.to_string(), errno_text(errno));
  }
  if (auto slot = slots_.slot_of(address)) {
    // A freed slot points nowhere until its next owner writes it, so WAN
    // egress never shapes a stale mark as the old device.
    bwa_addr nowhere{};
    if (bpf_map_update_elem(fds_.slot_addr, &*slot, &nowhere, BPF_ANY) != 0) {
      return make_error("clear slot of " + address.to_string(), errno_text(errno));
    }
  }
  slots_.release(address);
  held_.erase(address);
  over_capacity_.erase(address);
  return {};
}

}  // namespace bwalloc
