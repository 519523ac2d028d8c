// bpffs pin directory handling; see pins.h.
#include "agent/datapath/pins.h"

#include <bpf/bpf.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace bwalloc {

namespace {
constexpr const char* kBpffsRoot = "/sys/fs/bpf";

bool is_bpffs(const std::string& path) {
  struct statfs fs {};
  return statfs(path.c_str(), &fs) == 0 && static_cast<unsigned long>(fs.f_type) == BPF_FS_MAGIC;
}
}  // namespace

bool path_exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

std::string pin_path(const std::string& pin_dir, const std::string& name) { return pin_dir + "/" + name; }

Result<void> prepare_pin_dir(const std::string& dir) {
  std::string parent = std::filesystem::path(dir).parent_path().string();
  if (!is_bpffs(parent)) {
    if (parent != kBpffsRoot) {
      return Error{"pin directory " + dir + " is not on a BPF filesystem; mount bpffs on " + parent +
                   " or use a directory under " + kBpffsRoot};
    }
    if (mount("bpf", kBpffsRoot, "bpf", 0, "mode=0700") != 0) {
      return make_error("mount bpffs on /sys/fs/bpf", std::strerror(errno));
    }
  }
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return make_error("create pin directory " + dir, std::strerror(errno));
  }
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return make_error("inspect pin directory " + dir, std::strerror(errno));
  if (!S_ISDIR(st.st_mode)) return Error{"pin directory " + dir + " exists and is not a directory"};
  if (std::string refusal = foreign_pin_dir_refusal(dir); !refusal.empty()) return Error{refusal};
  if ((st.st_mode & 0777) != 0700 && chmod(dir.c_str(), 0700) != 0) {
    return make_error("restrict pin directory " + dir + " to 0700", std::strerror(errno));
  }
  return {};
}

std::string foreign_pin_dir_refusal(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || st.st_uid == geteuid()) return "";
  return "pin directory " + dir + " is owned by uid " + std::to_string(st.st_uid) + ", not by this agent (uid " +
         std::to_string(geteuid()) +
         "); refusing to adopt maps someone else could have planted. Remove it or choose another datapath.pin_dir";
}

Result<MapLayout> pinned_map_layout(int map_fd) {
  bpf_map_info info{};
  uint32_t len = sizeof info;
  if (bpf_obj_get_info_by_fd(map_fd, &info, &len) != 0) {
    return make_error("read map info", std::strerror(errno));
  }
  return MapLayout{info.type, info.key_size, info.value_size, info.max_entries};
}

}  // namespace bwalloc
