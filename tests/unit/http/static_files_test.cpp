// StaticFiles on its own: every response for a file shares the one cached
// copy (no per-request body), the ETag and If-None-Match rules, reloading a
// changed file, and the paths it refuses.
#include "agent/http/static_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace bwalloc {
namespace {

namespace fs = std::filesystem;

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bwalloc-static-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "web" / "js");
    std::ofstream(dir_ / "web" / "index.html") << "<!doctype html>";
    std::ofstream(dir_ / "web" / "js" / "app.js") << "export {};";
    std::ofstream(dir_ / "secret.txt") << "outside";
    fs::create_symlink(dir_ / "secret.txt", dir_ / "web" / "link.txt");
  }
  void TearDown() override { fs::remove_all(dir_); }

  HttpResponse get(const StaticFiles& files, const std::string& path, const std::string& if_none_match = "") {
    HttpRequest request;
    request.method = "GET";
    request.target = path;
    if (!if_none_match.empty()) request.headers["if-none-match"] = if_none_match;
    return files.serve(request, path);
  }

  fs::path dir_;
};

TEST_F(StaticFilesTest, EveryResponseSharesTheCachedCopy) {
  StaticFiles files((dir_ / "web").string());
  auto first = get(files, "/js/app.js");
  auto second = get(files, "/js/app.js");
  ASSERT_EQ(first.status, 200);
  ASSERT_TRUE(first.shared_body);
  EXPECT_EQ(*first.shared_body, "export {};");
  EXPECT_TRUE(first.body.empty()) << "no copy in the response itself";
  EXPECT_EQ(first.shared_body.get(), second.shared_body.get()) << "one copy for both";
  auto cached = files.find("/js/app.js");
  ASSERT_TRUE(cached);
  EXPECT_EQ(&(*cached)->content, first.shared_body.get()) << "and it is the cache's";
  EXPECT_EQ(first.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(get(files, "/").content_type, "text/html; charset=utf-8") << "/ is index.html";
}

TEST_F(StaticFilesTest, ETagAndIfNoneMatch) {
  StaticFiles files((dir_ / "web").string());
  auto first = get(files, "/index.html");
  std::string etag;
  for (const auto& [k, v] : first.headers) {
    if (k == "ETag") etag = v;
  }
  ASSERT_FALSE(etag.empty());
  auto not_modified = get(files, "/index.html", etag);
  EXPECT_EQ(not_modified.status, 304);
  EXPECT_FALSE(not_modified.shared_body) << "a 304 sends no body";
  EXPECT_EQ(get(files, "/index.html", "\"nope\"").status, 200);

  struct Case {
    const char* header;
    bool match;
  };
  for (const Case& c :
       {Case{"\"a\"", true}, Case{"W/\"a\"", true}, Case{"\"b\", \"a\"", true}, Case{" \"b\" ,W/\"a\" ", true},
        Case{"*", true}, Case{"\"b\"", false}, Case{"a", false}, Case{"", false}, Case{"\"a", false}}) {
    EXPECT_EQ(if_none_match_matches(c.header, "\"a\""), c.match) << c.header;
  }
}

TEST_F(StaticFilesTest, AChangedFileIsReloaded) {
  StaticFiles files((dir_ / "web").string());
  auto before = get(files, "/js/app.js");
  std::ofstream(dir_ / "web" / "js" / "app.js", std::ios::trunc) << "export const version = 2;";
  auto after = get(files, "/js/app.js");
  ASSERT_EQ(after.status, 200);
  EXPECT_EQ(*after.shared_body, "export const version = 2;");
  EXPECT_EQ(*before.shared_body, "export {};") << "a response already made keeps the copy it was given";
}

TEST_F(StaticFilesTest, RefusedPaths) {
  StaticFiles files((dir_ / "web").string());
  EXPECT_EQ(get(files, "/../secret.txt").status, 400);
  EXPECT_EQ(get(files, "/js\\app.js").status, 400);
  EXPECT_EQ(get(files, "").status, 400);
  EXPECT_EQ(get(files, std::string("/index.html\0x", 13)).status, 400);
  EXPECT_EQ(get(files, "/link.txt").status, 404) << "a symlink out of the web root";
  EXPECT_EQ(get(files, "/missing.js").status, 404);
  EXPECT_EQ(get(files, "/js").status, 404) << "a directory";
  StaticFiles none((dir_ / "no-such-dir").string());
  EXPECT_EQ(get(none, "/").status, 404);
}

}  // namespace
}  // namespace bwalloc
