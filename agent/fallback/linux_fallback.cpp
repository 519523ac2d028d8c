// See linux_fallback.h.
#include "agent/fallback/linux_fallback.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cstring>

#include "agent/common/log.h"
#include "agent/fallback/command_runner.h"
#include "agent/fallback/pcap_api.h"
#include "agent/fallback/pcap_datapath.h"
#include "agent/fallback/tc_shaper.h"

namespace bwalloc {

namespace {
int prefix_length(const sockaddr* netmask) {
  if (!netmask) return -1;
  int bits = 0;
  if (netmask->sa_family == AF_INET) {
    const auto* m = reinterpret_cast<const sockaddr_in*>(netmask);
    const auto* b = reinterpret_cast<const uint8_t*>(&m->sin_addr);
    for (int i = 0; i < 4; ++i) bits += std::popcount(b[i]);
  } else if (netmask->sa_family == AF_INET6) {
    const auto* m = reinterpret_cast<const sockaddr_in6*>(netmask);
    for (int i = 0; i < 16; ++i) bits += std::popcount(m->sin6_addr.s6_addr[i]);
  }
  return bits;
}

constexpr const char* kLog = "tc";
// A short-lived ifb device for the fq_codel probe (kTcIfbInterface's sibling).
constexpr const char* kTcProbeInterface = "bwalloc-probe0";

TcShaperConfig tc_config(const DatapathConfig& config, TcLeaf leaf = TcLeaf::Bfifo) {
  TcShaperConfig tc;
  tc.lan_interface = config.lan_interface;
  tc.ifb_interface = kTcIfbInterface;
  tc.priority_ports = config.priority_ports;
  tc.unlimited_ports = config.unlimited_ports;
  tc.max_devices = std::min(config.max_devices, kTcMaxDevices);
  tc.leaf = leaf;
  return tc;
}

// Once at start: whether the kernel makes fq_codel (built in, or a module it
// loads on demand). Asking the kernel is the only sure way (a container's
// /lib/modules may not be the host's), so the probe makes a qdisc on an ifb
// device of its own and removes it again. Logged once, with the reason.
TcLeaf choose_leaf(bool dry_run) {
  const char* fallback =
      "device classes get bfifo leaves (about 100 ms at the limit), so a bulk flow on a "
      "priority port shares a FIFO with that port's sparse flows";
  if (dry_run) {
    log_info(kLog, std::string("dry run: fq_codel is not probed; ") + fallback);
    return TcLeaf::Bfifo;
  }
  PosixCommandRunner runner(false);
  const TcLeafProbe probe = tc_fq_codel_probe(kTcProbeInterface);
  auto made = runner.run_all(probe.before);
  Result<void> probed = made ? runner.run(probe.probe) : made;
  (void)runner.run_all(probe.after);
  if (probed) {
    log_info(kLog,
             "device classes get fq_codel leaves (the kernel has fq_codel): flows are isolated inside each "
             "device's priority and bulk classes");
    return TcLeaf::FqCodel;
  }
  log_warn(kLog, "fq_codel is not usable (" + probed.message() + "): " + fallback);
  return TcLeaf::Bfifo;
}
}  // namespace

Result<LanAddresses> read_lan_addresses(const std::string& interface) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return Error{std::string("getifaddrs: ") + strerror(errno)};
  LanAddresses lan;
  for (const ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || !a->ifa_name || interface != a->ifa_name) continue;
    std::array<uint8_t, 16> bytes{};
    if (a->ifa_addr->sa_family == AF_INET) {
      bytes[10] = bytes[11] = 0xff;
      std::memcpy(bytes.data() + 12, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, 4);
    } else if (a->ifa_addr->sa_family == AF_INET6) {
      std::memcpy(bytes.data(), &reinterpret_cast<const sockaddr_in6*>(a->ifa_addr)->sin6_addr, 16);
    } else {
      continue;
    }
    IpAddress address(bytes);
    lan.own.push_back(address);
    const int length = prefix_length(a->ifa_netmask);
    if (length > 0) lan.prefixes.push_back(make_lan_prefix(address, length));
  }
  freeifaddrs(list);
  return lan;
}

Result<std::unique_ptr<Datapath>> open_pcap_datapath(const DatapathConfig& config) {
  auto api = load_pcap_api();
  if (!api) return api.error();
  auto shaper = TcShaper::create(tc_config(config, choose_leaf(config.shaper_dry_run)));
  if (!shaper) return make_error("tc shaper", shaper.message());
  PcapDatapathOptions options;
  options.interface = config.lan_interface;
  options.max_devices = config.max_devices;
  options.priority_ports = config.priority_ports;
  options.unlimited_ports = config.unlimited_ports;
  const std::string lan = config.lan_interface;
  auto opened = PcapDatapath::open(
      *api, options, [lan] { return read_lan_addresses(lan); }, std::move(*shaper),
      std::make_unique<PosixCommandRunner>(config.shaper_dry_run));
  if (!opened) return opened.error();
  return std::unique_ptr<Datapath>(std::move(*opened));
}

bool tc_shaper_present() { return if_nametoindex(kTcIfbInterface) != 0; }

Result<bool> detach_tc_shaper(const DatapathConfig& config) {
  if (if_nametoindex(kTcProbeInterface) != 0) {
    // An agent killed in the instant of its fq_codel probe.
    PosixCommandRunner runner(false);
    (void)runner.run_all(tc_fq_codel_probe(kTcProbeInterface).after);
  }
  if (!tc_shaper_present()) return false;
  PosixCommandRunner runner(false);
  if (auto ran = runner.run_all(tc_teardown_commands(tc_config(config))); !ran) return ran.error();
  return true;
}

}  // namespace bwalloc
