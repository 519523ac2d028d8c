// On Windows the Linux default paths move under %ProgramData%\bwalloc and
// next to bwalloc.exe; paths an operator set stay as they are.
#include "agent/platform/windows/windows_paths.h"

#include <gtest/gtest.h>

namespace bwalloc {
namespace {

TEST(WindowsPaths, DefaultsMoveToProgramDataAndTheExeDirectory) {
  Config config;
  apply_windows_default_paths(config, "C:\\ProgramData", "C:\\Program Files\\bwalloc");
  EXPECT_EQ(config.store.path, "C:\\ProgramData\\bwalloc\\bwalloc.db");
  EXPECT_EQ(config.http.token_file, "C:\\ProgramData\\bwalloc\\api-token");
  EXPECT_EQ(config.datapath.state_dir, "C:\\ProgramData\\bwalloc\\run");
  EXPECT_EQ(config.http.web_root, "C:\\Program Files\\bwalloc\\web");
  EXPECT_EQ(config.discovery.oui_file, "C:\\Program Files\\bwalloc\\oui.txt");
}

TEST(WindowsPaths, PathsAnOperatorSetAreKept) {
  Config config;
  config.store.path = "D:\\data\\bw.db";
  config.http.web_root = "D:\\web";
  apply_windows_default_paths(config, "C:\\ProgramData", "C:\\bwalloc");
  EXPECT_EQ(config.store.path, "D:\\data\\bw.db");
  EXPECT_EQ(config.http.web_root, "D:\\web");
  EXPECT_EQ(config.http.token_file, "C:\\ProgramData\\bwalloc\\api-token");
}

}  // namespace
}  // namespace bwalloc
