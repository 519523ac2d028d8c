// The dashboard's static files, each held once in memory as immutable text
// shared by every response that sends it (see shared_body.h), with a strong
// ETag so browsers keep a copy and revalidate it (304). A file is loaded on
// its first request and again when its size or modification time changes,
// so an upgraded web root is served without a restart. Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "agent/common/result.h"
#include "agent/http/http_message.h"

namespace bwalloc {

struct StaticFile {
  std::string content;
  std::string content_type;
  std::string etag;  // quoted, strong: "<size>-<FNV-1a 64 of the bytes>" in hex
};

class StaticFiles {
 public:
  explicit StaticFiles(std::string web_root);

  // GET or HEAD of `path` (already percent-decoded; "/" is index.html):
  // 200 with the file (HttpResponse::shared_body, never a copy), 304 when
  // If-None-Match names its ETag, 400 for a path that tries to leave the
  // root, 404 for anything that is not a regular file under it.
  HttpResponse serve(const HttpRequest& request, const std::string& path) const;

  // The cached file for a path already checked by serve(), loading it when
  // needed; an error when there is no such file under the root.
  [[nodiscard]] Result<std::shared_ptr<const StaticFile>> find(const std::string& path) const;

 private:
  struct Entry {
    std::shared_ptr<const StaticFile> file;
    std::filesystem::file_time_type mtime;
    std::uintmax_t size = 0;
  };
  std::string web_root_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Entry> cache_;  // by canonical path
};

// Whether an If-None-Match header value names `etag` (RFC 9110 13.1.2:
// a list of tags or "*", compared weakly, so W/"x" matches "x").
bool if_none_match_matches(const std::string& header, const std::string& etag);

}  // namespace bwalloc
