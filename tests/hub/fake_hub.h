// A fake Hugging Face hub for the hub tests: two cpp-httplib servers on 127.0.0.1 with ephemeral
// ports inside the test process. The "hub" answers /{repo}/resolve/{revision}/{file} with the
// real hub's headers (X-Repo-Commit, ETag, X-Linked-Etag/X-Linked-Size + 302 to the CDN for LFS
// files, X-Error-Code on errors, 307 with a relative Location for renamed repos); the "CDN" (the
// other server, so another host:port) serves LFS content by sha256 and supports Range requests.
// Every request is logged so tests can check what went over the wire.
#pragma once
#include <httplib.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "hub/sha256.h"

namespace bertcpp::hub::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

struct FakeFile {
  std::string content;
  bool lfs = false;
  std::string claimed_sha256;  // LFS: X-Linked-Etag to announce if not the real hash (corruption test)
  long drop_after = -1;        // LFS: CDN closes the connection after this many bytes ...
  int drops = 0;               // ... this many times
  bool ignore_range = false;   // LFS: CDN answers 200 with the whole file to Range requests
};

struct FakeRepo {
  std::string commit;  // 40 hex
  std::map<std::string, FakeFile> files;
  bool gated = false;
  std::string renamed_to;  // non-empty: 307 to the new id (legacy ids)
};

struct LoggedRequest {
  std::string server;  // "hub" or "cdn"
  std::string method;
  std::string path;
  std::string range;
  std::string authorization;
};

// LFS for weights, plain git files for the rest (like the hub).
inline bool is_lfs_name(const std::string& name) {
  auto ends = [&](const std::string& s) { return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0; };
  return ends(".safetensors") || ends(".bin") || ends(".model");
}

// Repo serving every file of a folder under tests/data/models (minus the test expectations).
inline FakeRepo repo_from_folder(const std::filesystem::path& dir, const std::string& commit,
                                 const std::set<std::string>& skip = {"expected.json", "expected.safetensors"}) {
  FakeRepo r;
  r.commit = commit;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (skip.count(name) || !e.is_regular_file()) continue;
    FakeFile f;
    f.content = read_file(e.path());
    f.lfs = is_lfs_name(name);
    r.files[name] = std::move(f);
  }
  return r;
}

// A git-blob-sha1-looking etag (40 hex) for small files.
inline std::string git_like_etag(const std::string& content) {
  return sha256_hex("blob " + std::to_string(content.size()) + '\0' + content).substr(0, 40);
}

class FakeHub {
 public:
  std::string token = "hf_fake_token_123";

  FakeHub() {
    hub_port_ = hub_.bind_to_any_port("127.0.0.1");
    cdn_port_ = cdn_.bind_to_any_port("127.0.0.1");
    hub_.Get(R"(/(.+?)/resolve/([^/]+)/(.+))", [this](const httplib::Request& req, httplib::Response& res) {
      on_resolve(req, res);
    });
    cdn_.Get(R"(/cdn/([0-9a-f]{64}))", [this](const httplib::Request& req, httplib::Response& res) { on_cdn(req, res); });
    hub_thread_ = std::thread([this] { hub_.listen_after_bind(); });
    cdn_thread_ = std::thread([this] { cdn_.listen_after_bind(); });
    while (!hub_.is_running() || !cdn_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeHub() { stop(); }

  void stop() {
    if (stopped_) return;
    stopped_ = true;
    hub_.stop();
    cdn_.stop();
    if (hub_thread_.joinable()) hub_thread_.join();
    if (cdn_thread_.joinable()) cdn_thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(hub_port_); }
  std::string cdn_origin() const { return "http://127.0.0.1:" + std::to_string(cdn_port_); }

  void add_repo(const std::string& id, FakeRepo repo) {
    std::lock_guard<std::mutex> l(mu_);
    register_lfs(repo);
    repos_[id] = std::move(repo);
  }
  // Mutate a served repo (e.g. move its branch to a new commit).
  template <class F>
  void edit_repo(const std::string& id, F&& f) {
    std::lock_guard<std::mutex> l(mu_);
    f(repos_.at(id));
    register_lfs(repos_.at(id));
  }

  std::vector<LoggedRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return log_;
  }
  // Requests whose path contains (or, if `suffix`, ends with) `needle`; any method if empty.
  std::size_t count(const std::string& needle, const std::string& method = "", bool suffix = false) const {
    std::size_t n = 0;
    for (const auto& r : requests()) {
      bool match = suffix ? (r.path.size() >= needle.size() &&
                             r.path.compare(r.path.size() - needle.size(), needle.size(), needle) == 0)
                          : r.path.find(needle) != std::string::npos;
      if (match && (method.empty() || r.method == method)) ++n;
    }
    return n;
  }
  void clear_log() {
    std::lock_guard<std::mutex> l(mu_);
    log_.clear();
  }

 private:
  void record(const char* server, const httplib::Request& req) {
    std::lock_guard<std::mutex> l(mu_);
    log_.push_back({server, req.method, req.path, req.get_header_value("Range"), req.get_header_value("Authorization")});
  }

  static std::string real_sha(const FakeFile& f) { return sha256_hex(f.content); }
  static std::string announced_sha(const FakeFile& f) {
    return f.claimed_sha256.empty() ? real_sha(f) : f.claimed_sha256;
  }

  void on_resolve(const httplib::Request& req, httplib::Response& res) {
    record("hub", req);
    const std::string id = req.matches[1], revision = req.matches[2], file = req.matches[3];
    std::lock_guard<std::mutex> l(mu_);
    auto it = repos_.find(id);
    if (it == repos_.end()) {
      // The real hub answers 401 for unknown (or private) repos when unauthenticated.
      res.status = 401;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_header("X-Error-Message", "Repository not found");
      res.set_content("Repository not found", "text/plain");
      return;
    }
    const FakeRepo& repo = it->second;
    if (!repo.renamed_to.empty()) {
      res.status = 307;
      res.set_header("Location", "/" + repo.renamed_to + "/resolve/" + revision + "/" + file);
      return;
    }
    if (repo.gated && req.get_header_value("Authorization") != "Bearer " + token) {
      res.status = 401;
      res.set_header("X-Error-Code", "GatedRepo");
      res.set_header("X-Error-Message", "Access to model " + id + " is restricted.");
      res.set_content("gated", "text/plain");
      return;
    }
    if (revision != "main" && revision != repo.commit) {
      res.status = 404;
      res.set_header("X-Error-Code", "RevisionNotFound");
      res.set_content("Invalid rev id: " + revision, "text/plain");
      return;
    }
    res.set_header("X-Repo-Commit", repo.commit);
    auto f = repo.files.find(file);
    if (f == repo.files.end()) {
      res.status = 404;
      res.set_header("X-Error-Code", "EntryNotFound");
      res.set_content("Entry not found", "text/plain");
      return;
    }
    if (f->second.lfs) {
      const std::string sha = announced_sha(f->second);
      res.status = 302;
      res.set_header("ETag", "\"" + git_like_etag("version https://git-lfs.github.com/spec/v1\noid sha256:" + sha) + "\"");
      res.set_header("X-Linked-Etag", "\"" + sha + "\"");
      res.set_header("X-Linked-Size", std::to_string(f->second.content.size()));
      res.set_header("Location", cdn_origin() + "/cdn/" + sha + "?X-Amz-Signature=fake&Expires=9999999999");
      return;
    }
    res.set_header("ETag", "\"" + git_like_etag(f->second.content) + "\"");
    res.set_content(f->second.content, "application/octet-stream");
  }

  void on_cdn(const httplib::Request& req, httplib::Response& res) {
    record("cdn", req);
    std::lock_guard<std::mutex> l(mu_);
    auto a = cdn_files_.find(req.matches[1]);
    if (a == cdn_files_.end()) {
      res.status = 404;
      return;
    }
    CdnEntry& f = a->second;
    res.set_header("ETag", "\"" + a->first + "\"");
    long drop = -1;
    if (f.drops > 0 && f.drop_after >= 0) {
      --f.drops;
      drop = f.drop_after;
    }
    std::shared_ptr<const std::string> content = f.content;
    if (f.ignore_range) {
      // Chunked, so httplib does not apply the Range header itself.
      res.status = 200;
      res.set_chunked_content_provider("application/octet-stream",
                                       [content](size_t offset, httplib::DataSink& sink) {
                                         if (offset < content->size()) {
                                           sink.write(content->data() + offset, content->size() - offset);
                                         } else {
                                           sink.done();
                                         }
                                         return true;
                                       });
      return;
    }
    // httplib applies the Range header to the provider itself (206 + Content-Range).
    res.set_content_provider(content->size(), "application/octet-stream",
                             [content, drop](size_t offset, size_t length, httplib::DataSink& sink) {
                               size_t end = offset + length;
                               if (drop >= 0) {
                                 size_t stop_at = static_cast<size_t>(drop);
                                 if (stop_at <= offset) return false;
                                 if (stop_at < end) {
                                   sink.write(content->data() + offset, stop_at - offset);
                                   return false;  // connection closed mid-file
                                 }
                               }
                               sink.write(content->data() + offset, length);
                               return true;
                             });
  }

  struct CdnEntry {
    std::shared_ptr<const std::string> content;
    long drop_after = -1;
    int drops = 0;
    bool ignore_range = false;
  };
  void register_lfs(const FakeRepo& repo) {
    for (const auto& [name, f] : repo.files) {
      if (!f.lfs) continue;
      CdnEntry e;
      e.content = std::make_shared<const std::string>(f.content);
      e.drop_after = f.drop_after;
      e.drops = f.drops;
      e.ignore_range = f.ignore_range;
      cdn_files_[announced_sha(f)] = std::move(e);
    }
  }

  httplib::Server hub_, cdn_;
  int hub_port_ = 0, cdn_port_ = 0;
  std::thread hub_thread_, cdn_thread_;
  bool stopped_ = false;
  mutable std::mutex mu_;
  std::map<std::string, FakeRepo> repos_;
  std::map<std::string, CdnEntry> cdn_files_;  // announced sha256 → content
  std::vector<LoggedRequest> log_;
};

}  // namespace bertcpp::hub::testing
