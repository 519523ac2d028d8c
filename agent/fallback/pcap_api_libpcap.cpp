// load_pcap_api() on Linux: libpcap is linked in, so the table is filled
// with thin adapters from the opaque handle to pcap_t*. The mirrored
// structs are checked against <pcap.h> here.
#include <pcap/pcap.h>

#include <cstddef>

#include "agent/fallback/pcap_api.h"

namespace bwalloc {

static_assert(sizeof(PcapPacketHeader) == sizeof(pcap_pkthdr));
static_assert(offsetof(PcapPacketHeader, caplen) == offsetof(pcap_pkthdr, caplen));
static_assert(offsetof(PcapPacketHeader, len) == offsetof(pcap_pkthdr, len));
static_assert(sizeof(PcapStat) >= sizeof(pcap_stat));
static_assert(offsetof(PcapStat, ps_drop) == offsetof(pcap_stat, ps_drop));
static_assert(offsetof(PcapStat, ps_ifdrop) == offsetof(pcap_stat, ps_ifdrop));
static_assert(kPcapErrbufSize == PCAP_ERRBUF_SIZE);
static_assert(kPcapDltEthernet == DLT_EN10MB);
static_assert(kPcapErrorBreak == PCAP_ERROR_BREAK);

namespace {
pcap_t* as_pcap(PcapHandle h) { return static_cast<pcap_t*>(h); }
}  // namespace

Result<PcapApi> load_pcap_api() {
  PcapApi api;
  api.create = [](const char* device, char* errbuf) -> PcapHandle { return pcap_create(device, errbuf); };
  api.set_snaplen = [](PcapHandle h, int snaplen) { return pcap_set_snaplen(as_pcap(h), snaplen); };
  api.set_promisc = [](PcapHandle h, int on) { return pcap_set_promisc(as_pcap(h), on); };
  api.set_timeout = [](PcapHandle h, int ms) { return pcap_set_timeout(as_pcap(h), ms); };
  api.set_buffer_size = [](PcapHandle h, int bytes) { return pcap_set_buffer_size(as_pcap(h), bytes); };
  api.activate = [](PcapHandle h) { return pcap_activate(as_pcap(h)); };
  api.datalink = [](PcapHandle h) { return pcap_datalink(as_pcap(h)); };
  api.dispatch = [](PcapHandle h, int count, PcapCallback callback, unsigned char* user) {
    // Through a trampoline rather than a cast of the callback's type.
    struct Target {
      PcapCallback callback;
      unsigned char* user;
    } target{callback, user};
    pcap_handler trampoline = [](u_char* target_bytes, const pcap_pkthdr* header, const u_char* bytes) {
      auto* t = reinterpret_cast<Target*>(target_bytes);
      PcapPacketHeader copy{{header->ts.tv_sec, header->ts.tv_usec}, header->caplen, header->len};
      t->callback(t->user, &copy, bytes);
    };
    return pcap_dispatch(as_pcap(h), count, trampoline, reinterpret_cast<u_char*>(&target));
  };
  api.breakloop = [](PcapHandle h) { pcap_breakloop(as_pcap(h)); };
  api.stats = [](PcapHandle h, PcapStat* stat) { return pcap_stats(as_pcap(h), reinterpret_cast<pcap_stat*>(stat)); };
  api.geterr = [](PcapHandle h) { return pcap_geterr(as_pcap(h)); };
  api.close = [](PcapHandle h) { pcap_close(as_pcap(h)); };
  api.lib_version = [] { return pcap_lib_version(); };
  return api;
}

}  // namespace bwalloc
