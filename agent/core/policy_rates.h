// From a priority to the policy the datapath enforces (pure).
#pragma once

#include "agent/common/ip_address.h"
#include "agent/common/priority.h"
#include "agent/config/config.h"
#include "agent/api/datapath.h"

namespace bwalloc {

inline uint64_t rate_for(Priority priority, const RatesConfig& rates) {
  switch (priority) {
    case Priority::High:
      return rates.high_bits_per_sec;
    case Priority::Normal:
      return rates.normal_bits_per_sec;
    case Priority::Low:
      return rates.low_bits_per_sec;
    case Priority::Blocked:
      return 0;
  }
  return rates.normal_bits_per_sec;
}

inline DevicePolicy policy_for(const IpAddress& ip, Priority priority, const RatesConfig& rates) {
  const uint64_t rate = rate_for(priority, rates);
  return DevicePolicy{ip, priority, rate, rate, false};
}

}  // namespace bwalloc
