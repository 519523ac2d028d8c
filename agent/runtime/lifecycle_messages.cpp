// See lifecycle_messages.h.
#include "agent/runtime/lifecycle_messages.h"

namespace bwalloc {

namespace {
std::string devices(size_t n) { return std::to_string(n) + (n == 1 ? " device" : " devices"); }
}  // namespace

std::string restored_message(size_t saved_devices, size_t saved_blocks, size_t new_in_datapath,
                             const std::string& store_path) {
  std::string out = saved_devices == 0 ? "no devices saved in " + store_path + " yet"
                                       : "restored " + devices(saved_devices) + " (" + std::to_string(saved_blocks) +
                                             " blocked) from " + store_path;
  if (new_in_datapath > 0) {
    out += "; " + devices(new_in_datapath) + (saved_devices == 0 ? "" : " more") + " seen by the datapath";
  }
  return out;
}

std::string stopping_message(std::string_view signal_name, Backend backend) {
  std::string out = "stopping on " + std::string(signal_name);
  if (backend == Backend::Pcap) return out + "; the pcap backend removes its tc shaping";
  // Only the eBPF programs and pins outlive the agent (shaping goes on
  // through a restart); the simulator and the Windows backend leave nothing.
  if (backend == Backend::Ebpf) return out + "; the datapath stays attached (bwalloc detach removes it)";
  return out;
}

}  // namespace bwalloc
