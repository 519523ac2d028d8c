// PcapApi: the few pcap calls the capture datapath makes, as a table of
// function pointers. Linux fills it from libpcap at link time
// (pcap_api_libpcap.cpp); Windows fills it at run time from Npcap's
// wpcap.dll, so the agent starts and says clearly when Npcap is missing.
// No <pcap.h> here: handles are opaque and the two structs pcap writes into
// are mirrored with pcap's own layout (checked with static_assert where
// <pcap.h> is available).
#pragma once

#include <cstdint>
#include <string>

#include "agent/common/result.h"

namespace bwalloc {

// pcap_t*, opaque.
using PcapHandle = void*;

inline constexpr int kPcapErrbufSize = 256;  // PCAP_ERRBUF_SIZE
inline constexpr int kPcapDltEthernet = 1;   // DLT_EN10MB
inline constexpr int kPcapErrorBreak = -2;   // PCAP_ERROR_BREAK: pcap_breakloop ended the dispatch

// struct timeval as pcap_pkthdr holds it: two longs on LP64 Linux and on
// LLP64 Windows alike.
struct PcapTimeval {
  long tv_sec;
  long tv_usec;
};

// struct pcap_pkthdr.
struct PcapPacketHeader {
  PcapTimeval ts;
  uint32_t caplen;  // bytes captured (at most the snap length)
  uint32_t len;     // bytes on the wire
};

// struct pcap_stat; Windows' has three more u_ints after these, so the
// room is there whichever library writes into it.
struct PcapStat {
  unsigned int ps_recv = 0;
  unsigned int ps_drop = 0;    // dropped because the capture buffer was full
  unsigned int ps_ifdrop = 0;  // dropped by the interface or driver
  unsigned int windows_only[3] = {0, 0, 0};
};

// pcap_handler.
using PcapCallback = void (*)(unsigned char* user, const PcapPacketHeader* header, const unsigned char* bytes);

struct PcapApi {
  // Each pointer has the signature of the pcap function named in its comment.
  PcapHandle (*create)(const char* device, char* errbuf) = nullptr;                     // pcap_create
  int (*set_snaplen)(PcapHandle, int snaplen) = nullptr;                                // pcap_set_snaplen
  int (*set_promisc)(PcapHandle, int on) = nullptr;                                     // pcap_set_promisc
  int (*set_timeout)(PcapHandle, int ms) = nullptr;                                     // pcap_set_timeout
  int (*set_buffer_size)(PcapHandle, int bytes) = nullptr;                              // pcap_set_buffer_size
  int (*activate)(PcapHandle) = nullptr;                                                // pcap_activate
  int (*datalink)(PcapHandle) = nullptr;                                                // pcap_datalink
  int (*dispatch)(PcapHandle, int count, PcapCallback, unsigned char* user) = nullptr;  // pcap_dispatch
  void (*breakloop)(PcapHandle) = nullptr;                                              // pcap_breakloop
  int (*stats)(PcapHandle, PcapStat*) = nullptr;                                        // pcap_stats
  char* (*geterr)(PcapHandle) = nullptr;                                                // pcap_geterr
  void (*close)(PcapHandle) = nullptr;                                                  // pcap_close
  const char* (*lib_version)() = nullptr;                                               // pcap_lib_version
};

// The platform's pcap: libpcap on Linux (always there, linked in); on
// Windows wpcap.dll from Npcap, with an error that says to install Npcap
// when it cannot be loaded or lacks a function.
[[nodiscard]] Result<PcapApi> load_pcap_api();

}  // namespace bwalloc
