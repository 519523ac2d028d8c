// The start and stop wordings for every case: what was restored versus what
// the datapath shows for the first time, and what stays attached per backend.
#include "agent/runtime/lifecycle_messages.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(LifecycleMessages, Restored) {
  EXPECT_EQ(restored_message(0, 0, 0, "/db"), "no devices saved in /db yet");
  EXPECT_EQ(restored_message(0, 0, 12, "/db"), "no devices saved in /db yet; 12 devices seen by the datapath");
  EXPECT_EQ(restored_message(5, 1, 0, "/db"), "restored 5 devices (1 blocked) from /db");
  EXPECT_EQ(restored_message(1, 0, 1, "/db"),
            "restored 1 device (0 blocked) from /db; 1 device more seen by the datapath");
}

TEST(LifecycleMessages, Stopping) {
  EXPECT_EQ(stopping_message("SIGTERM", Backend::Ebpf),
            "stopping on SIGTERM; the datapath stays attached (bwalloc detach removes it)");
  EXPECT_EQ(stopping_message("SIGINT", Backend::Pcap), "stopping on SIGINT; the pcap backend removes its tc shaping");
  EXPECT_EQ(stopping_message("SIGTERM", Backend::Simulator), "stopping on SIGTERM");
}

}  // namespace
}  // namespace bwalloc
