// The Windows datapath; see windows_datapath.h.
#include "agent/platform/windows/windows_datapath.h"

#include <map>
#include <mutex>

#include "agent/common/log.h"
#include "agent/fallback/netqos_shaper.h"
#include "agent/fallback/pcap_api.h"
#include "agent/platform/windows/windows_process.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

// Runs a shaper's commands in order; clean-up commands may fail (their
// target may already be gone) and are passed over.
Result<void> run_commands(const std::vector<Command>& commands) {
  for (const auto& command : commands) {
    log_debug(kLog, "run: " + command.to_string());
    auto ran = run_windows_process(command.argv);
    if (ran) continue;
    if (command.may_fail) {
      log_debug(kLog, "ignored: " + ran.message());
      continue;
    }
    return ran;
  }
  return {};
}

class NetQosDatapath final : public Datapath {
 public:
  explicit NetQosDatapath(std::string capture_note) : capture_note_(std::move(capture_note)) {}

  Result<std::vector<DeviceCounters>> read_counters() override { return std::vector<DeviceCounters>{}; }

  Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override {
    std::lock_guard lock(mutex_);
    auto wanted = wanted_;
    for (const auto& p : policies) wanted[p.address] = p;
    return enforce_locked(std::move(wanted));
  }

  Result<void> remove_policy(const IpAddress& address) override {
    std::lock_guard lock(mutex_);
    auto wanted = wanted_;
    wanted.erase(address);
    return enforce_locked(std::move(wanted));
  }

  DatapathStatus status() const override {
    DatapathStatus s;
    s.backend = "pcap";
    s.pacing_active = false;
    s.pacing_note = capture_note_ + "; shaping through NetQos policies (throttles only: Blocked is the minimum rate)";
    return s;
  }

 private:
  Result<void> enforce_locked(std::map<IpAddress, DevicePolicy> wanted) {
    std::vector<DevicePolicy> list;
    for (const auto& [address, policy] : wanted) list.push_back(policy);
    auto commands = shaper_.plan(list);
    if (!commands) return commands.error();
    if (auto ran = run_commands(*commands); !ran) {
      shaper_.invalidate();
      return make_error("NetQos", ran.message());
    }
    shaper_.commit(list);
    wanted_ = std::move(wanted);
    return {};
  }

  std::string capture_note_;
  std::mutex mutex_;  // one command sequence at a time
  NetQosShaper shaper_;
  std::map<IpAddress, DevicePolicy> wanted_;
};
}  // namespace

Result<std::unique_ptr<Datapath>> open_windows_datapath(const Config&) {
  std::string note;
  if (auto pcap = load_pcap_api(); !pcap) {
    note = pcap.message();
  } else {
    note = std::string("Npcap found (") + pcap->lib_version() +
           "), but this build does not capture yet: capture is off";
  }
  log_warn(kLog, note);
  return std::unique_ptr<Datapath>(std::make_unique<NetQosDatapath>(note));
}

Result<void> remove_windows_shaping(const Config&) {
  NetQosShaper shaper;
  return run_commands(shaper.teardown());
}

}  // namespace bwalloc
