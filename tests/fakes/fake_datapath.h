// FakeDatapath: a Datapath a test scripts. It returns the counters the test
// set, keeps the policies it was given, fails on demand, can hold a counter
// read until released (a busy tick thread), and records the thread of every
// call (the agent's datapath belongs to its tick thread). Thread-safe.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "agent/api/datapath.h"

namespace bwalloc {

class FakeDatapath final : public Datapath {
 public:
  Result<std::vector<DeviceCounters>> read_counters() override {
    std::unique_lock lock(mutex_);
    note_caller();
    if (hold_reads_) {
      ++held_reads_;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !hold_reads_; });
    }
    if (fail_reads_) return Error{*fail_reads_};
    return counters_;
  }
  Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override {
    std::lock_guard lock(mutex_);
    note_caller();
    if (fail_policies_) return Error{*fail_policies_};
    for (const auto& p : policies) policies_[p.address] = p;
    ++policy_writes_;
    return {};
  }
  Result<void> remove_policy(const IpAddress& address) override {
    std::lock_guard lock(mutex_);
    note_caller();
    policies_.erase(address);
    return {};
  }
  Result<void> update_settings(const DatapathConfig&) override {
    std::lock_guard lock(mutex_);
    note_caller();
    if (fail_settings_) return Error{*fail_settings_};
    return {};
  }
  DatapathStatus status() const override {
    std::lock_guard lock(mutex_);
    note_caller();
    DatapathStatus s;
    s.backend = Backend::Simulator;  // nothing in the kernel
    return s;
  }

  // The test's side.
  void set_counters(std::vector<DeviceCounters> counters) {
    std::lock_guard lock(mutex_);
    counters_ = std::move(counters);
  }
  // nullopt: works again.
  void fail_policies(std::optional<std::string> why) {
    std::lock_guard lock(mutex_);
    fail_policies_ = std::move(why);
  }
  void fail_settings(std::optional<std::string> why) {
    std::lock_guard lock(mutex_);
    fail_settings_ = std::move(why);
  }
  void fail_reads(std::optional<std::string> why) {
    std::lock_guard lock(mutex_);
    fail_reads_ = std::move(why);
  }
  std::optional<DevicePolicy> policy(const IpAddress& ip) const {
    std::lock_guard lock(mutex_);
    auto it = policies_.find(ip);
    if (it == policies_.end()) return std::nullopt;
    return it->second;
  }
  int policy_writes() const {
    std::lock_guard lock(mutex_);
    return policy_writes_;
  }
  // From now on read_counters() waits until release_reads().
  void hold_reads() {
    std::lock_guard lock(mutex_);
    hold_reads_ = true;
  }
  void release_reads() {
    {
      std::lock_guard lock(mutex_);
      hold_reads_ = false;
    }
    changed_.notify_all();
  }
  // Waits until a read is being held (the tick thread is busy in it).
  void wait_for_held_read() {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return held_reads_ > 0; });
  }
  // The threads every call came from since the last forget_callers().
  std::set<std::thread::id> callers() const {
    std::lock_guard lock(mutex_);
    return callers_;
  }
  void forget_callers() {
    std::lock_guard lock(mutex_);
    callers_.clear();
  }

 private:
  void note_caller() const { callers_.insert(std::this_thread::get_id()); }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<DeviceCounters> counters_;
  std::map<IpAddress, DevicePolicy> policies_;
  std::optional<std::string> fail_policies_;
  std::optional<std::string> fail_reads_;
  std::optional<std::string> fail_settings_;
  bool hold_reads_ = false;
  int held_reads_ = 0;
  int policy_writes_ = 0;
  mutable std::set<std::thread::id> callers_;
};

}  // namespace bwalloc
