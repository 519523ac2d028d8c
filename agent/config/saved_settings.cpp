// See saved_settings.h.
#include "agent/config/saved_settings.h"

#include <list>

#include "agent/config/config_loader.h"

namespace bwalloc {

LoadedSettings load_saved_settings(const Config& base, const std::vector<std::pair<std::string, std::string>>& saved) {
  LoadedSettings out{base, {}};
  if (saved.empty()) return out;
  // The usual case: everything saved loads as a whole.
  if (auto all = with_changes(base, saved, true)) {
    out.config = *all;
    return out;
  }
  // Otherwise take the rows one at a time, so one bad row (text an older
  // version saved, a value the config file no longer allows next to it)
  // costs only itself. Rows that only fit together come in over several
  // passes: a saved high_below above the file's low_above loads once the
  // saved low_above has.
  std::list<std::pair<std::string, std::string>> pending(saved.begin(), saved.end());
  for (bool progress = true; progress && !pending.empty();) {
    progress = false;
    for (auto it = pending.begin(); it != pending.end();) {
      if (auto one = with_changes(out.config, {*it}, true)) {
        out.config = *one;
        it = pending.erase(it);
        progress = true;
      } else {
        ++it;
      }
    }
  }
  for (const auto& row : pending) {
    auto refused = with_changes(out.config, {row}, true);
    out.skipped.push_back("saved setting " + row.first + " = " + row.second + " not loaded (" +
                          (refused ? std::string("conflicts with the others") : refused.message()) + ")");
  }
  return out;
}

}  // namespace bwalloc
