// Polling waits; see wait.h.
#include "tests/support/wait.h"

#include <thread>

namespace bwalloc::test {

bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds patience,
                std::chrono::milliseconds interval) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(interval);
  }
  return done();
}

}  // namespace bwalloc::test
