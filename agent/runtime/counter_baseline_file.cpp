// Binary baseline file; see counter_baseline_file.h. Layout: an 8-byte
// magic, the entry count and read time (u64 each, host order: the file
// never leaves this machine), then 32-byte entries (address, up, down).
#include "agent/runtime/counter_baseline_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace bwalloc {

namespace {
constexpr char kMagic[8] = {'B', 'W', 'A', 'B', 'A', 'S', 'E', '1'};
constexpr size_t kEntrySize = 32;

bool write_all(int fd, const std::vector<uint8_t>& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

template <class T>
void put(std::vector<uint8_t>& out, const T& value) {
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

template <class T>
T get(const uint8_t* p) {
  T value;
  std::memcpy(&value, p, sizeof value);
  return value;
}
}  // namespace

Result<void> save_baselines(const std::string& path, const SavedBaselines& saved) {
  std::vector<uint8_t> bytes;
  bytes.reserve(24 + saved.devices.size() * kEntrySize);
  bytes.insert(bytes.end(), kMagic, kMagic + sizeof kMagic);
  put<uint64_t>(bytes, saved.devices.size());
  put<int64_t>(bytes, std::chrono::duration_cast<std::chrono::nanoseconds>(saved.read_at.time_since_epoch()).count());
  for (const auto& d : saved.devices) {
    bytes.insert(bytes.end(), d.ip.bytes().begin(), d.ip.bytes().end());
    put<uint64_t>(bytes, d.up_bytes);
    put<uint64_t>(bytes, d.down_bytes);
  }
  const std::string temporary = path + ".tmp";
  int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("write counter baselines " + temporary, std::strerror(errno));
  bool written = write_all(fd, bytes);
  int err = errno;
  close(fd);
  if (!written) {
    unlink(temporary.c_str());
    return make_error("write counter baselines " + temporary, std::strerror(err));
  }
  if (rename(temporary.c_str(), path.c_str()) != 0) {
    return make_error("replace counter baselines " + path, std::strerror(errno));
  }
  return {};
}

Result<std::optional<SavedBaselines>> load_baselines(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<SavedBaselines>{};
    return make_error("read counter baselines " + path, std::strerror(errno));
  }
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
    if (n > 0) bytes.insert(bytes.end(), buf, buf + n);
  }
  close(fd);
  if (bytes.size() < 24 || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) {
    return Error{"counter baselines " + path + " are not in this build's format; starting without them"};
  }
  uint64_t count = get<uint64_t>(bytes.data() + 8);
  if (count > (bytes.size() - 24) / kEntrySize || bytes.size() != 24 + count * kEntrySize) {
    return Error{"counter baselines " + path + " are truncated; starting without them"};
  }
  SavedBaselines saved;
  saved.read_at = std::chrono::steady_clock::time_point(std::chrono::nanoseconds(get<int64_t>(bytes.data() + 16)));
  saved.devices.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint8_t* entry = bytes.data() + 24 + i * kEntrySize;
    std::array<uint8_t, 16> address;
    std::memcpy(address.data(), entry, 16);
    saved.devices.push_back(CounterBaseline{IpAddress(address), get<uint64_t>(entry + 16), get<uint64_t>(entry + 24)});
  }
  return std::optional<SavedBaselines>(std::move(saved));
}

}  // namespace bwalloc
