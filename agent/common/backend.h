// Backend: which datapath counts and shapes the devices. Backend is what
// runs (DatapathStatus, /health, logs); BackendChoice is what the operator
// asks for in agent.backend, where Auto means eBPF, falling back to pcap
// when eBPF cannot be loaded.
#pragma once

#include <string_view>

namespace bwalloc {

enum class Backend {
  Ebpf,       // the eBPF programs (Linux)
  Pcap,       // pcap capture with tc (Linux) or NetQos (Windows) shaping
  Simulator,  // synthetic devices, nothing in the kernel
};

enum class BackendChoice { Auto, Ebpf, Pcap, Simulator };

// "ebpf", "pcap", "simulator": the names /health and `bwalloc status` show.
constexpr std::string_view backend_name(Backend backend) {
  switch (backend) {
    case Backend::Ebpf:
      return "ebpf";
    case Backend::Pcap:
      return "pcap";
    case Backend::Simulator:
      return "simulator";
  }
  return "simulator";
}

// "auto", "ebpf", "pcap", "simulator": the values agent.backend takes.
constexpr std::string_view backend_choice_name(BackendChoice choice) {
  switch (choice) {
    case BackendChoice::Auto:
      return "auto";
    case BackendChoice::Ebpf:
      return "ebpf";
    case BackendChoice::Pcap:
      return "pcap";
    case BackendChoice::Simulator:
      return "simulator";
  }
  return "auto";
}

}  // namespace bwalloc
