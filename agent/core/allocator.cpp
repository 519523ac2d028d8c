// The allocator's rules; see allocator.h.
#include "agent/core/allocator.h"

#include <cmath>
#include <cstdio>

namespace bwalloc {

namespace {
std::string mbit(double bits_per_sec) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3g Mbit/s", bits_per_sec / 1e6);
  return buf;
}

std::string reason_for(Priority proposal, double recent, const AllocatorConfig& c) {
  switch (proposal) {
    case Priority::High:
      return mbit(recent) + " below " + mbit(static_cast<double>(c.high_below_bits_per_sec));
    case Priority::Low:
      return mbit(recent) + " above " + mbit(static_cast<double>(c.low_above_bits_per_sec));
    default:
      return mbit(recent) + " between " + mbit(static_cast<double>(c.high_below_bits_per_sec)) + " and " +
             mbit(static_cast<double>(c.low_above_bits_per_sec));
  }
}

Event auto_event(const Clock& clock, const IpAddress& ip, EventLevel level, std::string message) {
  return Event{clock.wall_now(), level, std::move(message), "allocator", ip};
}
}  // namespace

namespace {
// The rules once, for either window type (same arithmetic, same order).
template <class Window>
SpikeStats stats_of(const Window& window) {
  SpikeStats stats;
  if (window.size() < 2) return stats;
  const size_t n = window.size() - 1;  // the newest is excluded
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += window[i];
  stats.mean = sum / static_cast<double>(n);
  double squares = 0;
  for (size_t i = 0; i < n; ++i) squares += (window[i] - stats.mean) * (window[i] - stats.mean);
  stats.stddev = std::sqrt(squares / static_cast<double>(n));  // population: divide by n
  return stats;
}
}  // namespace

Priority threshold_priority(double bits_per_sec, const AllocatorConfig& config) {
  if (bits_per_sec < static_cast<double>(config.high_below_bits_per_sec)) return Priority::High;
  if (bits_per_sec > static_cast<double>(config.low_above_bits_per_sec)) return Priority::Low;
  return Priority::Normal;
}

namespace {
template <class Window>
bool spike_in(const Window& window, const AllocatorConfig& config) {
  if (static_cast<int>(window.size()) < config.spike_min_samples) return false;
  SpikeStats stats = stats_of(window);
  return window.back() > stats.mean + config.spike_sigma * stats.stddev &&
         stats.mean > static_cast<double>(config.high_below_bits_per_sec);
}

template <class Windows>
AllocationResult allocate_windows(const Windows& windows, std::unordered_map<IpAddress, AllocatorState> states,
                                  const AllocatorConfig& config, const Clock& clock) {
  AllocationResult result;
  if (!config.auto_mode) {
    result.states = std::move(states);
    return result;
  }
  states.reserve(windows.size());  // new devices never rehash mid-tick
  for (const auto& [ip, window] : windows) {
    if (window.empty()) continue;
    AllocatorState& state = states[ip];
    if (state.priority == Priority::Blocked || state.manual) {
      state.pending.reset();
      state.pending_ticks = 0;
      state.in_spike = false;
      continue;
    }
    const double recent = window.back();
    // Only for an event's text: most devices change nothing in a tick.
    // (An init-capture: clang 14 cannot capture a structured binding.)
    auto name = [&device = ip] { return device.to_string(); };

    if (spike_in(window, config)) {
      if (!state.in_spike) {
        SpikeStats stats = stats_of(window);
        result.events.push_back(auto_event(clock, ip, EventLevel::Alert,
                                           "spike: " + name() + " at " + mbit(recent) + ", above mean " +
                                               mbit(stats.mean) + " + 2 sigma (" + mbit(stats.stddev) + ")"));
        state.in_spike = true;
      }
      state.pending.reset();
      state.pending_ticks = 0;
      if (state.priority != Priority::Low) {
        result.events.push_back(auto_event(
            clock, ip, EventLevel::Auto,
            name() + " " + std::string(priority_name(state.priority)) + " -> Low: traffic spike, demoted at once"));
        state.priority = Priority::Low;
      }
      continue;
    }
    state.in_spike = false;

    const Priority proposal = threshold_priority(recent, config);
    if (proposal == state.priority) {
      state.pending.reset();
      state.pending_ticks = 0;
      continue;
    }
    if (!is_demotion(state.priority, proposal)) {
      result.events.push_back(auto_event(clock, ip, EventLevel::Auto,
                                         name() + " " + std::string(priority_name(state.priority)) + " -> " +
                                             std::string(priority_name(proposal)) + ": " +
                                             reason_for(proposal, recent, config)));
      state.priority = proposal;
      state.pending.reset();
      state.pending_ticks = 0;
      continue;
    }
    if (state.pending == proposal) {
      ++state.pending_ticks;
    } else {
      state.pending = proposal;
      state.pending_ticks = 1;
    }
    if (state.pending_ticks >= config.demotion_ticks) {
      result.events.push_back(auto_event(
          clock, ip, EventLevel::Auto,
          name() + " " + std::string(priority_name(state.priority)) + " -> " + std::string(priority_name(proposal)) +
              ": " + reason_for(proposal, recent, config) + " for " + std::to_string(state.pending_ticks) + " ticks"));
      state.priority = proposal;
      state.pending.reset();
      state.pending_ticks = 0;
    }
  }
  result.states = std::move(states);
  return result;
}
}  // namespace

SpikeStats earlier_sample_stats(const std::deque<double>& window) { return stats_of(window); }
SpikeStats earlier_sample_stats(const RateWindow& window) { return stats_of(window); }
bool is_spike(const std::deque<double>& window, const AllocatorConfig& config) { return spike_in(window, config); }
bool is_spike(const RateWindow& window, const AllocatorConfig& config) { return spike_in(window, config); }

AllocationResult allocate(const std::unordered_map<IpAddress, std::deque<double>>& windows,
                          std::unordered_map<IpAddress, AllocatorState> states, const AllocatorConfig& config,
                          const Clock& clock) {
  return allocate_windows(windows, std::move(states), config, clock);
}

AllocationResult allocate(const std::unordered_map<IpAddress, DeviceTrack, FastIpHash>& windows,
                          std::unordered_map<IpAddress, AllocatorState> states, const AllocatorConfig& config,
                          const Clock& clock) {
  return allocate_windows(windows, std::move(states), config, clock);
}

}  // namespace bwalloc
