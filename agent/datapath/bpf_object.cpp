// Loading the BPF skeleton with pinned map adoption; see bpf_object.h.
#include "agent/datapath/bpf_object.h"

#include <bpf/libbpf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "agent/datapath/map_sizing.h"
#include "agent/datapath/pin_adoption.h"
#include "agent/datapath/pins.h"
#include "bwalloc.skel.h"

namespace bwalloc {

namespace {
std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }
}  // namespace

Result<BpfObject> BpfObject::load(const DatapathConfig& config) {
  bwalloc_bpf* skel = bwalloc_bpf__open();
  if (!skel) return make_error("open BPF object", errno_text(errno));
  BpfObject object(skel);
  bpf_map__set_max_entries(skel->maps.bwa_counters,
                           counter_map_entries(config.max_devices, libbpf_num_possible_cpus()));
  bpf_map__set_max_entries(skel->maps.bwa_policy, config.max_devices);

  for (const char* name : kRetiredMapNames) unlink(pin_path(config.pin_dir, name).c_str());
  for (bpf_map* map : owned_maps(skel->obj)) {
    auto adopted = adopt_pinned_map(map, pin_path(config.pin_dir, bpf_map__name(map)));
    if (!adopted) return adopted.error();
    object.adopted_pins_ = object.adopted_pins_ || *adopted;
  }
  if (int loaded = bwalloc_bpf__load(skel); loaded != 0) {
    return make_error("load BPF programs (is this kernel built with BPF and BTF? are we root?)", errno_text(loaded));
  }
  for (bpf_map* map : owned_maps(skel->obj)) {
    std::string pin = pin_path(config.pin_dir, bpf_map__name(map));
    if (path_exists(pin)) continue;  // adopted
    if (int pinned = bpf_map__pin(map, pin.c_str()); pinned != 0) {
      return make_error("pin map at " + pin, errno_text(pinned));
    }
    chmod(pin.c_str(), 0600);
  }
  return object;
}

BpfObject::BpfObject(BpfObject&& other) noexcept
    : skel_(std::exchange(other.skel_, nullptr)), adopted_pins_(other.adopted_pins_) {}

BpfObject::~BpfObject() {
  if (skel_) bwalloc_bpf__destroy(skel_);
}

MapFds BpfObject::map_fds() const {
  return MapFds{bpf_map__fd(skel_->maps.bwa_counters), bpf_map__fd(skel_->maps.bwa_policy),
                bpf_map__fd(skel_->maps.bwa_edt),      bpf_map__fd(skel_->maps.bwa_slot_addr),
                bpf_map__fd(skel_->maps.bwa_ports),    bpf_map__fd(skel_->maps.bwa_settings),
                bpf_map__fd(skel_->maps.bwa_global),   bpf_map__fd(skel_->maps.bwa_flows)};
}

int BpfObject::program_fd(const char* name) const {
  bpf_program* program = bpf_object__find_program_by_name(skel_->obj, name);
  return program ? bpf_program__fd(program) : -1;
}

}  // namespace bwalloc
