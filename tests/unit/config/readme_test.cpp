// The README's configuration reference lists every setting with its
// current default, so the documentation cannot drift from the code.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "agent/config/config_keys.h"

namespace bwalloc {
namespace {

TEST(Readme, ConfigReferenceListsEverySettingWithItsDefault) {
  std::ifstream in(std::string(BWALLOC_SOURCE_DIR) + "/README.md");
  ASSERT_TRUE(in) << "README.md not found";
  std::stringstream text;
  text << in.rdbuf();
  const std::string readme = text.str();
  Config defaults;
  for (const auto& key : config_keys()) {
    std::string row = "| `" + key.name + "` | `" + key.get(defaults) + "` |";
    EXPECT_NE(readme.find(row), std::string::npos) << "README is missing or has a stale row for " << key.name;
  }
}

}  // namespace
}  // namespace bwalloc
