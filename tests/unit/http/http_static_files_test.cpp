// Issue #12 item 5 over real sockets: many unread downloads of a big
// dashboard file must not cost a copy of the file each (they are all served
// from one shared copy), and a browser may keep the files: an ETag,
// If-None-Match answered with 304, a Cache-Control that allows storing.
#include <malloc.h>

#include "tests/unit/http/http_test_server.h"

namespace bwalloc::test {
namespace {

constexpr size_t kBigFileSize = 8 * 1024 * 1024;

class StaticFilesHttpTest : public HttpServerTest {
 protected:
  void make_web_root(const std::filesystem::path& web) override {
    HttpServerTest::make_web_root(web);
    std::filesystem::create_directories(web / "vendor");
    std::string big(kBigFileSize, '\0');
    for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7919) % 26);
    std::ofstream(web / "vendor" / "big.js", std::ios::binary) << big;
  }

  // Bytes the process has allocated and not freed, over all malloc arenas
  // (a count kept by the allocator itself, not a timing or RSS figure).
  static size_t heap_in_use() {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
  }
};

TEST_F(StaticFilesHttpTest, UnreadDownloadsShareOneCopyOfTheFile) {
  // Served once in full first: whatever the server keeps per file is in
  // place before the measurement starts.
  auto full = exchange(raw_request("GET", "/vendor/big.js"));
  ASSERT_EQ(full.status, 200);
  ASSERT_EQ(full.body().size(), kBigFileSize);
  full = {};

  const size_t before = heap_in_use();
  constexpr int kDownloads = 20;
  std::vector<RawClient> unread;
  for (int i = 0; i < kDownloads; ++i) {
    // A small receive window: the answer cannot fit in the socket buffers,
    // so the server is still in the middle of writing every one of them.
    unread.emplace_back(port(), "127.0.0.1", 4096);
    ASSERT_TRUE(unread.back().send(raw_request("GET", "/vendor/big.js")));
  }
  for (auto& c : unread) ASSERT_TRUE(c.wait_readable()) << "every answer has started";
  const size_t during = heap_in_use();
  const size_t grown = during > before ? during - before : 0;
  // A copy per download would be 20 x 8 MiB; one shared copy plus each
  // session's own buffers is a small fraction of one file.
  RecordProperty("heap_growth_kib", std::to_string(grown / 1024));
  EXPECT_LT(grown, kBigFileSize / 2) << "heap grew by " << grown / 1024 << " KiB for " << kDownloads
                                     << " unread downloads of an 8 MiB file";
}

TEST_F(StaticFilesHttpTest, BrowsersMayKeepFilesAndRevalidateThem) {
  auto first = exchange(raw_request("GET", "/vendor/big.js"));
  ASSERT_EQ(first.status, 200);
  const std::string etag(first.message[http::field::etag]);
  ASSERT_FALSE(etag.empty()) << "an ETag";
  EXPECT_EQ(etag.front(), '"');
  const std::string cache(first.message[http::field::cache_control]);
  EXPECT_EQ(cache.find("no-store"), std::string::npos) << "static files may be stored: " << cache;
  EXPECT_NE(cache.find("no-cache"), std::string::npos) << "and are revalidated before use: " << cache;
  EXPECT_EQ(std::string(exchange(raw_request("GET", "/api/metrics")).message[http::field::cache_control]), "no-store")
      << "the API is still never stored";

  for (const std::string& header : {etag, "W/" + etag, "\"other\", " + etag, std::string("*")}) {
    auto again = exchange(raw_request("GET", "/vendor/big.js", "If-None-Match: " + header + "\r\n"));
    EXPECT_EQ(again.status, 304) << header;
    EXPECT_TRUE(again.body().empty()) << header;
    EXPECT_EQ(std::string(again.message[http::field::etag]), etag) << header;
  }
  auto other = exchange(raw_request("GET", "/vendor/big.js", "If-None-Match: \"other\"\r\n"));
  EXPECT_EQ(other.status, 200);
  EXPECT_EQ(other.body().size(), kBigFileSize);

  auto head = exchange(raw_request("HEAD", "/vendor/big.js"), "127.0.0.1", true);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(std::string(head.message[http::field::content_length]), std::to_string(kBigFileSize));
  EXPECT_EQ(std::string(head.message[http::field::etag]), etag);

  // A changed file is a new version: a new ETag, and the old one no longer matches.
  std::ofstream(dir_ / "web" / "vendor" / "big.js", std::ios::binary | std::ios::trunc) << "export const v = 2;";
  auto changed = exchange(raw_request("GET", "/vendor/big.js", "If-None-Match: " + etag + "\r\n"));
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body(), "export const v = 2;");
  EXPECT_NE(std::string(changed.message[http::field::etag]), etag);
}

}  // namespace
}  // namespace bwalloc::test
