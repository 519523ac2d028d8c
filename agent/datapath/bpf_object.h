// BpfObject: the one owner of the datapath's loaded BPF skeleton
// (bpf/bwalloc.bpf.c). Loading sizes the maps from the configuration, adopts
// compatible pinned maps, loads the programs and pins the maps it did not
// adopt. Destroying it closes our fds only: the pins keep the maps and the
// XDP link alive and tc filters hold their programs, so shaping goes on
// while no agent runs.
#pragma once

#include <string>

#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"
#include "agent/datapath/ebpf_maps.h"

struct bwalloc_bpf;

namespace bwalloc {

class BpfObject {
 public:
  // The pin directory must be prepared (prepare_pin_dir). Errors name the
  // map or the step and the kernel's reason.
  [[nodiscard]] static Result<BpfObject> load(const DatapathConfig& config);
  BpfObject(BpfObject&& other) noexcept;
  BpfObject& operator=(BpfObject&&) = delete;
  ~BpfObject();

  // True when at least one pinned map was adopted (a restart): its policies
  // are then already in the kernel.
  bool adopted_pins() const { return adopted_pins_; }
  MapFds map_fds() const;
  // The fd of one of the object's programs by name ("bwa_tc_egress"), -1
  // when there is no such program.
  int program_fd(const char* name) const;

 private:
  explicit BpfObject(bwalloc_bpf* skel) : skel_(skel) {}
  bwalloc_bpf* skel_ = nullptr;
  bool adopted_pins_ = false;
};

}  // namespace bwalloc
