// Config: every setting of the agent in one aggregate with named defaults
// (the original system's behaviour), validated separately by validate().
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "agent/common/backend.h"
#include "agent/common/result.h"
#include "agent/datapath/datapath_config.h"

namespace bwalloc {

struct AllocatorConfig {
  std::chrono::milliseconds tick{1000};
  int window_samples = 10;
  // The original's 20,000 and 500,000 bytes per 2 s tick, as rates.
  uint64_t high_below_bits_per_sec = 80'000;
  uint64_t low_above_bits_per_sec = 2'000'000;
  double spike_sigma = 2.0;
  int spike_min_samples = 5;
  int demotion_ticks = 3;
  bool auto_mode = true;
};

struct RatesConfig {  // each direction
  uint64_t high_bits_per_sec = 100'000'000;
  uint64_t normal_bits_per_sec = 20'000'000;
  uint64_t low_bits_per_sec = 5'000'000;
};

struct StoreConfig {
  std::string path = "/var/lib/bwalloc/bwalloc.db";
  std::chrono::seconds raw_retention{24 * 3600};
  std::chrono::seconds minute_retention{7 * 24 * 3600};
  std::chrono::seconds hour_retention{90 * 24 * 3600};
  std::chrono::seconds day_retention{730 * 24 * 3600};
};

struct HttpConfig {
  std::string bind = "127.0.0.1";
  uint16_t port = 8080;
  std::string token_file = "/var/lib/bwalloc/api-token";
  std::string web_root = "/usr/share/bwalloc/web";
  std::vector<std::string> allowed_hosts;  // beyond localhost and the bind address
};

struct DiscoveryConfig {
  std::string dnsmasq_leases;  // empty: none
  std::string oui_file = "/usr/share/ieee-data/oui.txt";
  bool reverse_dns = true;
};

struct MetricsConfig {
  std::string gateway;  // empty: the default route's gateway
  std::chrono::milliseconds probe_interval{2000};
};

struct Config {
  BackendChoice backend = BackendChoice::Auto;
  int simulated_devices = 12;  // with the simulator backend
  bool dry_run = false;        // compute and log decisions, never write policies
  std::string log_level = "info";
  DatapathConfig datapath;
  AllocatorConfig allocator;
  RatesConfig rates;
  StoreConfig store;
  HttpConfig http;
  DiscoveryConfig discovery;
  MetricsConfig metrics;
};

// Cross-field and range checks; the message names the key and what is accepted.
[[nodiscard]] Result<void> validate(const Config& config);

}  // namespace bwalloc
