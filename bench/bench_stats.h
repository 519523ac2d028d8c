// Small statistics and output parsers shared by the shaping benches (pure).
#pragma once

#include <algorithm>
#include <cstddef>
#include <regex>
#include <string>
#include <vector>

namespace bwalloc::bench {

// The p-quantile of `values` (nearest rank, 0 when empty).
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  size_t index = std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())));
  return values[index];
}

inline double median(std::vector<double> values) { return percentile(std::move(values), 0.5); }

// Round-trip times of the replies in ping's output, in ms.
inline std::vector<double> ping_rtts_ms(const std::string& output) {
  std::vector<double> rtts;
  static const std::regex re("time=([0-9.]+) ms");
  for (std::sregex_iterator it(output.begin(), output.end(), re), end; it != end; ++it) {
    rtts.push_back(std::stod((*it)[1]));
  }
  return rtts;
}

// Jain's fairness index of the shares: 1 when equal, 1/n when one takes all.
inline double jain_index(const std::vector<double>& shares) {
  double sum = 0, squares = 0;
  for (double x : shares) {
    sum += x;
    squares += x * x;
  }
  if (shares.empty() || squares == 0) return 0;
  return sum * sum / (static_cast<double>(shares.size()) * squares);
}

// The most goodput a transport can carry within a limit that counts whole
// Ethernet frames: full-size TCP segments (1448 payload bytes with
// timestamps in a 1514-byte frame at MTU 1500), or UDP datagrams of
// `payload` bytes (plus 8 UDP, 20 IPv4 and 14 Ethernet header bytes).
constexpr double kTcpPayloadPerFrame = 1448.0 / 1514.0;
constexpr double udp_payload_per_frame(double payload) { return payload / (payload + 8 + 20 + 14); }

}  // namespace bwalloc::bench
