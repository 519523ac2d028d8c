// DatapathState file: round trip, missing file, 0600 mode, atomic rewrite,
// and a clear error for a damaged line.
#include "agent/datapath/datapath_state.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace bwalloc {
namespace {

class DatapathStateFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("bwdp-state-" + std::to_string(getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "datapath.state").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(DatapathStateFile, MissingFileIsAnEmptyState) {
  auto state = load_datapath_state(path_);
  ASSERT_TRUE(state.ok()) << state.message();
  EXPECT_TRUE(state->values.empty());
  EXPECT_FALSE(state->flag("clsact_created.lan"));
}

TEST_F(DatapathStateFile, RoundTripKeepsEveryValue) {
  DatapathState state;
  state.set_flag("clsact_created.lan", true);
  state.set_flag("qdisc_installed.wan", true);
  state.values["qdisc_previous.wan"] = "noqueue";
  state.values["qdisc_previous_handle.wan"] = "0:0";
  ASSERT_TRUE(save_datapath_state(path_, state).ok());

  auto loaded = load_datapath_state(path_);
  ASSERT_TRUE(loaded.ok()) << loaded.message();
  EXPECT_EQ(loaded->values, state.values);
  EXPECT_TRUE(loaded->flag("clsact_created.lan"));
  EXPECT_FALSE(loaded->flag("clsact_created.wan"));
}

TEST_F(DatapathStateFile, ClearingAFlagRemovesIt) {
  DatapathState state;
  state.set_flag("clsact_created.lan", true);
  state.set_flag("clsact_created.lan", false);
  EXPECT_TRUE(state.values.empty());
}

TEST_F(DatapathStateFile, WrittenOwnerOnlyAndWithoutTempLeftovers) {
  DatapathState state;
  state.set_flag("clsact_created.lan", true);
  ASSERT_TRUE(save_datapath_state(path_, state).ok());
  state.set_flag("clsact_created.lan", false);
  ASSERT_TRUE(save_datapath_state(path_, state).ok());  // rewrite replaces
  struct stat st {};
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_FALSE(std::filesystem::exists(path_ + ".tmp"));
  EXPECT_TRUE(load_datapath_state(path_)->values.empty());
}

TEST_F(DatapathStateFile, DamagedLineIsAnErrorNamingIt) {
  std::ofstream(path_) << "# comment\nclsact_created.lan=1\nthis line is damaged\n";
  auto loaded = load_datapath_state(path_);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.message().find(":3:"), std::string::npos) << loaded.message();
  EXPECT_NE(loaded.message().find("this line is damaged"), std::string::npos) << loaded.message();
}

TEST_F(DatapathStateFile, UnwritableDirectoryIsAnError) {
  auto saved = save_datapath_state((dir_ / "missing" / "datapath.state").string(), DatapathState{});
  ASSERT_FALSE(saved.ok());
  EXPECT_NE(saved.message().find("missing"), std::string::npos) << saved.message();
}

}  // namespace
}  // namespace bwalloc
