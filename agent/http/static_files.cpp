// Static files from one shared copy each; see static_files.h.
#include "agent/http/static_files.h"

#include <cstdio>
#include <fstream>
#include <iterator>

#include "agent/http/json_response.h"

namespace bwalloc {

namespace fs = std::filesystem;

namespace {

std::string content_type_for(const fs::path& file) {
  auto ext = file.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".png") return "image/png";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".json") return "application/json";
  if (ext == ".ico") return "image/x-icon";
  return "application/octet-stream";
}

std::string etag_for(const std::string& content) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a: a version stamp, not a security check
  for (unsigned char c : content) hash = (hash ^ c) * 0x100000001b3ULL;
  char text[64];
  std::snprintf(text, sizeof text, "\"%llx-%016llx\"", static_cast<unsigned long long>(content.size()),
                static_cast<unsigned long long>(hash));
  return text;
}

Result<std::shared_ptr<const StaticFile>> load(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Error{"cannot read " + file.filename().string()};
  auto loaded = std::make_shared<StaticFile>();
  loaded->content.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) return Error{"cannot read " + file.filename().string()};
  loaded->content_type = content_type_for(file);
  loaded->etag = etag_for(loaded->content);
  return std::shared_ptr<const StaticFile>(std::move(loaded));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

bool if_none_match_matches(const std::string& header, const std::string& etag) {
  std::string_view rest = header;
  std::string_view want = etag;
  if (want.rfind("W/", 0) == 0) want.remove_prefix(2);
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view tag = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (tag == "*") return true;
    if (tag.rfind("W/", 0) == 0) tag.remove_prefix(2);
    if (tag == want) return true;
  }
  return false;
}

StaticFiles::StaticFiles(std::string web_root) : web_root_(std::move(web_root)) {}

Result<std::shared_ptr<const StaticFile>> StaticFiles::find(const std::string& path) const {
  std::error_code ec;
  auto root = fs::canonical(web_root_, ec);
  if (ec) return Error{"dashboard files not found"};
  auto file = fs::weakly_canonical(root / (path == "/" ? "index.html" : path.substr(1)), ec);
  // Symlinks pointing out of the web root are refused like '..'.
  auto rel = file.lexically_relative(root).string();
  if (ec || rel.empty() || rel.rfind("..", 0) == 0 || !fs::is_regular_file(file, ec))
    return Error{"not found: " + path};
  auto size = fs::file_size(file, ec);
  auto mtime = ec ? fs::file_time_type{} : fs::last_write_time(file, ec);
  if (ec) return Error{"not found: " + path};

  // Loaded under the lock: concurrent first requests for one file make one
  // copy, not one each.
  std::lock_guard lock(mutex_);
  auto& entry = cache_[file.string()];
  if (!entry.file || entry.size != size || entry.mtime != mtime) {
    auto loaded = load(file);
    if (!loaded) {
      cache_.erase(file.string());
      return loaded.error();
    }
    entry = Entry{*loaded, mtime, size};
  }
  return entry.file;
}

HttpResponse StaticFiles::serve(const HttpRequest& request, const std::string& path) const {
  // An empty path (a target of only "?query") has no file to name.
  if (path.empty() || path.find("..") != std::string::npos || path.find('\0') != std::string::npos ||
      path.find('\\') != std::string::npos) {
    return json_error(400, "bad path");
  }
  auto file = find(path);
  if (!file) return json_error(404, file.message());
  const auto& f = *file;
  HttpResponse r;
  r.content_type = f->content_type;
  r.headers.emplace_back("ETag", f->etag);
  // Kept by the browser, and revalidated each time (a 304 on a LAN is
  // cheap): the file names carry no version, so after an agent upgrade a
  // cached app.js must not outlive the API it was written for.
  r.headers.emplace_back("Cache-Control", "no-cache");
  if (if_none_match_matches(request.header("if-none-match"), f->etag)) {
    r.status = 304;
    return r;
  }
  r.shared_body = std::shared_ptr<const std::string>(f, &f->content);  // shares the cache's copy
  return r;
}

}  // namespace bwalloc
