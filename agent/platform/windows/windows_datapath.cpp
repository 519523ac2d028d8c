// The Windows datapath; see windows_datapath.h.
#include "agent/platform/windows/windows_datapath.h"

#include "agent/common/log.h"
#include "agent/fallback/netqos_shaper.h"
#include "agent/fallback/pcap_api.h"
#include "agent/fallback/pcap_datapath.h"
#include "agent/fallback/shaping_enforcer.h"
#include "agent/platform/windows/windows_adapters.h"
#include "agent/platform/windows/windows_command_runner.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

// Capture off (no Npcap): no counters, but policies still reach NetQos.
// What it shaped stays when the agent stops (`bwalloc detach` removes it).
class ShapingOnlyDatapath final : public Datapath {
 public:
  ShapingOnlyDatapath(std::string why, bool dry_run)
      : why_(std::move(why)),
        enforcer_(std::make_unique<NetQosShaper>(), std::make_unique<WindowsCommandRunner>(dry_run)) {}

  Result<std::vector<DeviceCounters>> read_counters() override { return std::vector<DeviceCounters>{}; }

  Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override {
    if (auto applied = enforcer_.apply(policies); !applied) return make_error("NetQos", applied.message());
    return {};
  }

  Result<void> remove_policy(const IpAddress& address) override {
    if (auto removed = enforcer_.remove(address); !removed) return make_error("NetQos", removed.message());
    return {};
  }

  DatapathStatus status() const override {
    DatapathStatus s;
    s.backend = Backend::Pcap;
    s.pacing_note = why_ + "; shaping through NetQos policies (a throttle only: Blocked gets the minimum rate)";
    return s;
  }

 private:
  std::string why_;
  ShapingEnforcer enforcer_;
};
}  // namespace

Result<std::unique_ptr<Datapath>> open_windows_datapath(const Config& config) {
  auto api = load_pcap_api();
  if (!api) {
    log_warn(kLog, api.message());
    return std::unique_ptr<Datapath>(
        std::make_unique<ShapingOnlyDatapath>(api.message(), config.datapath.shaper_dry_run));
  }
  auto adapter = find_windows_adapter(config.datapath.lan_interface);
  if (!adapter) return make_error("capture", adapter.message());
  PcapDatapathOptions options;
  options.interface = adapter->npcap_device;
  options.max_devices = config.datapath.max_devices;
  options.priority_ports = config.datapath.priority_ports;
  const std::string name = config.datapath.lan_interface;
  auto lan = [name]() -> Result<LanAddresses> {
    auto found = find_windows_adapter(name);
    if (!found) return found.error();
    return found->addresses;
  };
  log_info(kLog, "capturing on \"" + adapter->friendly_name + "\" (" + adapter->npcap_device + ") with " +
                     (*api).lib_version() + "; shaping with NetQos");
  auto opened = PcapDatapath::open(*api, options, lan, std::make_unique<NetQosShaper>(),
                                   std::make_unique<WindowsCommandRunner>(config.datapath.shaper_dry_run));
  if (!opened) return opened.error();
  return std::unique_ptr<Datapath>(std::move(*opened));
}

Result<void> remove_windows_shaping() {
  NetQosShaper shaper;
  WindowsCommandRunner runner(false);
  // Each teardown command may fail (nothing to remove); say so only if it could not even start.
  for (const auto& command : shaper.teardown()) {
    if (auto ran = runner.run(command); !ran) return ran.error();
  }
  return {};
}

}  // namespace bwalloc
