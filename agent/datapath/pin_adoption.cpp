// Pinned map adoption; see pin_adoption.h.
#include "agent/datapath/pin_adoption.h"

#include <bpf/bpf.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "agent/common/log.h"
#include "agent/datapath/map_layout.h"
#include "agent/datapath/pins.h"
#include "bwalloc_maps.h"

namespace bwalloc {

namespace {
constexpr const char* kLog = "datapath";

std::string errno_text(int err) { return std::strerror(err < 0 ? -err : err); }
}  // namespace

Result<bool> adopt_pinned_map(bpf_map* map, const std::string& pin) {
  if (!path_exists(pin)) return false;
  int fd = bpf_obj_get(pin.c_str());
  if (fd < 0) {
    log_warn(kLog, "pin " + pin + " is not a map we can open (" + errno_text(errno) + "); replacing it");
    unlink(pin.c_str());
    return false;
  }
  MapLayout expected{bpf_map__type(map), bpf_map__key_size(map), bpf_map__value_size(map), bpf_map__max_entries(map)};
  auto found = pinned_map_layout(fd);
  std::optional<std::string> mismatch;
  if (!found) {
    mismatch = found.message();
  } else {
    std::optional<uint32_t> version;
    if (std::string(bpf_map__name(map)) == "bwa_settings") {
      // A settings map we cannot read counts as layout version 0: never trusted.
      bwa_settings settings{};
      uint32_t zero = 0;
      version = bpf_map_lookup_elem(fd, &zero, &settings) == 0 ? settings.layout_version : 0;
    }
    mismatch = layout_mismatch(expected, *found, version);
  }
  if (mismatch) {
    log_warn(kLog, "pinned map " + pin + " does not match this build (" + *mismatch + "; expected " +
                       describe(expected) + ", layout version " + std::to_string(BWA_LAYOUT_VERSION) +
                       "); replacing it, its contents are lost");
    close(fd);
    unlink(pin.c_str());
    return false;
  }
  int reused = bpf_map__reuse_fd(map, fd);
  close(fd);
  if (reused != 0) return make_error("adopt pinned map " + pin, errno_text(reused));
  return true;
}

}  // namespace bwalloc
