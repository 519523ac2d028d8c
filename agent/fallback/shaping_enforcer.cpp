// See shaping_enforcer.h.
#include "agent/fallback/shaping_enforcer.h"

namespace bwalloc {

ShapingEnforcer::ShapingEnforcer(std::unique_ptr<CommandShaper> shaper, std::unique_ptr<CommandRunner> runner,
                                 WantedPoliciesListener listener)
    : shaper_(std::move(shaper)), runner_(std::move(runner)), listener_(std::move(listener)) {}

Result<void> ShapingEnforcer::start() {
  std::lock_guard lock(change_mutex_);
  started_ = true;
  return enforce_locked({});
}

void ShapingEnforcer::teardown() {
  std::lock_guard lock(change_mutex_);
  if (started_) (void)runner_->run_all(shaper_->teardown());
  started_ = false;
}

Result<void> ShapingEnforcer::apply(const std::vector<DevicePolicy>& policies) {
  std::lock_guard lock(change_mutex_);
  auto wanted = wanted_;
  for (const auto& p : policies) wanted[p.address] = p;
  return enforce_locked(std::move(wanted));
}

Result<void> ShapingEnforcer::remove(const IpAddress& address) {
  std::lock_guard lock(change_mutex_);
  auto wanted = wanted_;
  if (wanted.erase(address) == 0) return {};
  return enforce_locked(std::move(wanted));
}

Result<void> ShapingEnforcer::update_ports(const std::vector<ProtocolPort>& priority,
                                           const std::vector<ProtocolPort>& unlimited,
                                           const std::function<void()>& accepted) {
  std::lock_guard lock(change_mutex_);
  if (auto changed = shaper_->update_ports(priority, unlimited); !changed) return changed;
  if (accepted) accepted();
  return enforce_locked(wanted_);
}

ShapingEnforcer::Status ShapingEnforcer::status() const {
  std::lock_guard lock(status_mutex_);
  return Status{shaper_->name(), runner_->dry_run(), shaped_devices_, error_};
}

Result<void> ShapingEnforcer::enforce_locked(std::map<IpAddress, DevicePolicy> wanted) {
  std::vector<DevicePolicy> list;
  list.reserve(wanted.size());
  for (const auto& [address, policy] : wanted) list.push_back(policy);
  auto commands = shaper_->plan(list);
  if (!commands) return commands.error();
  wanted_ = std::move(wanted);
  if (listener_) listener_(wanted_);
  auto ran = runner_->run_all(*commands);
  std::lock_guard status(status_mutex_);
  if (!ran) {
    shaper_->invalidate();
    error_ = ran.message();
    return ran.error();
  }
  shaper_->commit(list);
  error_.clear();
  shaped_devices_ = wanted_.size();
  return {};
}

}  // namespace bwalloc
