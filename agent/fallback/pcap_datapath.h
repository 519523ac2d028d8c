// PcapDatapath: the fallback Datapath. A capture thread reads the LAN
// interface through the pcap API (headers only: a small snap length, a
// bounded kernel buffer) and counts per device in both directions; a
// CommandShaper plans the commands that shape and block, and a
// CommandRunner runs them. Platform-neutral: the pcap table, the shaper,
// the runner and the source of the LAN's addresses are handed in (Linux:
// libpcap, tc, fork/exec, getifaddrs; see linux_fallback.h).
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "agent/api/datapath.h"
#include "agent/fallback/capture_counters.h"
#include "agent/fallback/command_runner.h"
#include "agent/fallback/command_shaper.h"
#include "agent/fallback/pcap_api.h"
#include "agent/fallback/shaping_enforcer.h"

namespace bwalloc {

struct PcapDatapathOptions {
  std::string interface = "lan0";
  int snap_length = 128;         // enough for Ethernet + 2 VLAN tags + IPv6 + ports
  int buffer_bytes = 4 << 20;    // the kernel's capture buffer; full = counted drops
  int timeout_ms = 100;          // how long captured packets may wait to be counted
  uint32_t max_devices = 65536;  // devices counted; more are insert failures
  std::vector<ProtocolPort> priority_ports = default_priority_ports();
  std::vector<ProtocolPort> unlimited_ports;  // counted apart (the shaper lets them pass)
};

// The LAN interface's prefixes and own addresses, read again every few
// seconds (addresses come and go).
using LanAddressSource = std::function<Result<LanAddresses>()>;

class PcapDatapath final : public Datapath {
 public:
  // Opens the capture (an error says what pcap said), clears what an
  // earlier run's shaper left and installs the shaper's fixed part.
  [[nodiscard]] static Result<std::unique_ptr<PcapDatapath>> open(PcapApi api, PcapDatapathOptions options,
                                                                  LanAddressSource lan,
                                                                  std::unique_ptr<CommandShaper> shaper,
                                                                  std::unique_ptr<CommandRunner> runner);
  // Stops the capture and removes everything the shaper installed.
  ~PcapDatapath() override;
  PcapDatapath(const PcapDatapath&) = delete;
  PcapDatapath& operator=(const PcapDatapath&) = delete;

  [[nodiscard]] Result<std::vector<DeviceCounters>> read_counters() override;
  [[nodiscard]] Result<void> apply_policies(const std::vector<DevicePolicy>& policies) override;
  [[nodiscard]] Result<void> remove_policy(const IpAddress& address) override;
  DatapathStatus status() const override;
  [[nodiscard]] Result<void> update_settings(const DatapathConfig& config) override;

 private:
  PcapDatapath(PcapApi api, PcapDatapathOptions options, LanAddressSource lan, std::unique_ptr<CommandShaper> shaper,
               std::unique_ptr<CommandRunner> runner);
  [[nodiscard]] Result<PcapHandle> open_handle() const;
  void capture_loop();
  void refresh_lan();
  static void on_packet(unsigned char* user, const PcapPacketHeader* header, const unsigned char* bytes);

  PcapApi api_;
  PcapDatapathOptions options_;
  LanAddressSource lan_source_;
  std::string lib_version_;

  // The capture. The thread owns the handle; handle_mutex_ keeps it alive
  // while another thread calls breakloop on it.
  std::mutex handle_mutex_;
  PcapHandle handle_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread capture_thread_;

  // What the capture thread and status() share.
  mutable std::mutex state_mutex_;
  CaptureCounters counters_;
  std::string capture_error_;
  uint64_t closed_handle_drops_ = 0;  // drops of handles closed after an error
  uint64_t handle_drops_ = 0;         // drops of the current handle

  // Policies: planned by the shaper, run by the runner, one change at a time.
  ShapingEnforcer enforcer_;
};

}  // namespace bwalloc
