// Waiting for an event in a test: poll until it happens, with a patience
// bound that only tells a hang from a slow machine.
#pragma once

#include <chrono>
#include <functional>

namespace bwalloc::test {

// How long a test waits for something that must happen before it calls it a
// hang. Only a safety net: every wait polls for its event and returns as soon
// as it happens, so a slow or loaded machine makes a test slower, not failed.
inline constexpr std::chrono::seconds kPatience{120};

// Polls `done` every `interval` until it holds (true) or `patience` has
// passed (false; `done` is asked once more at the end).
bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds patience = kPatience,
                std::chrono::milliseconds interval = std::chrono::milliseconds(50));

}  // namespace bwalloc::test
