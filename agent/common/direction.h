// Direction: which way traffic goes, from the device's point of view. Every
// name the agent gives a direction says up or down (up_bytes, down_rate...),
// as the kernel maps do (BWA_DIR_UP, BWA_DIR_DOWN). Only two outside
// contracts keep the original system's rx / tx: the SQLite columns
// (rx_bytes = down, tx_bytes = up) and the original API's JSON keys
// (bytes_rx = down, bytes_tx = up).
#pragma once

namespace bwalloc {

enum class Direction {
  Up,    // device -> router (LAN ingress, WAN egress)
  Down,  // router -> device (LAN egress)
};

}  // namespace bwalloc
