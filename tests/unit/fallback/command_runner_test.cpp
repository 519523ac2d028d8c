// The POSIX command runner: argv without a shell, stderr in the error,
// clean-up commands passed over, dry run runs nothing.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/fallback/command_runner.h"

namespace bwalloc {
namespace {

TEST(CommandRunner, RunsArgvWithoutAShell) {
  PosixCommandRunner runner(false);
  const std::string marker = testing::TempDir() + "/bwfb-runner-marker";
  std::filesystem::remove(marker);
  // A shell would run the touch after ';'; as argv it is one odd argument to echo.
  ASSERT_TRUE(runner.run({{"echo", "x; touch " + marker}}).ok());
  EXPECT_FALSE(std::filesystem::exists(marker));
  ASSERT_TRUE(runner.run({{"touch", marker}}).ok());
  EXPECT_TRUE(std::filesystem::exists(marker));
  std::filesystem::remove(marker);
}

TEST(CommandRunner, FailureCarriesExitCodeAndStderr) {
  PosixCommandRunner runner(false);
  auto failed = runner.run({{"ls", "/bwfb-no-such-path"}});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("ls /bwfb-no-such-path"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("exit code"), std::string::npos) << failed.message();
  EXPECT_NE(failed.message().find("bwfb-no-such-path"), failed.message().rfind("ls /bwfb")) << failed.message();
  auto missing = runner.run({{"bwfb-no-such-program"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("cannot execute"), std::string::npos) << missing.message();
  EXPECT_FALSE(runner.run({{}}).ok());
}

TEST(CommandRunner, RunAllStopsAtTheFirstRealFailureButPassesCleanUps) {
  PosixCommandRunner runner(false);
  const std::string marker = testing::TempDir() + "/bwfb-runner-after";
  std::filesystem::remove(marker);
  ASSERT_TRUE(runner.run_all({{{"false"}, true}, {{"touch", marker}}}).ok());
  EXPECT_TRUE(std::filesystem::exists(marker));
  std::filesystem::remove(marker);
  EXPECT_FALSE(runner.run_all({{{"false"}}, {{"touch", marker}}}).ok());
  EXPECT_FALSE(std::filesystem::exists(marker));
}

TEST(CommandRunner, DryRunRunsNothing) {
  PosixCommandRunner runner(true);
  const std::string marker = testing::TempDir() + "/bwfb-runner-dry";
  std::filesystem::remove(marker);
  EXPECT_TRUE(runner.run({{"touch", marker}}).ok());
  EXPECT_TRUE(runner.run({{"false"}}).ok());
  EXPECT_FALSE(std::filesystem::exists(marker));
  EXPECT_TRUE(runner.dry_run());
}

}  // namespace
}  // namespace bwalloc
