// One file from the hub into the cache, the way huggingface_hub's hf_hub_download does it:
// HEAD /{repo}/resolve/{revision}/{file} (relative redirects followed, e.g. renamed repos), read
// X-Repo-Commit, X-Linked-Etag or ETag, X-Linked-Size or Content-Length and Location; then GET
// into blobs/<etag>.incomplete (resumed with Range), verify size and, for LFS files, SHA-256,
// rename to blobs/<etag> and link snapshots/<commit>/<file> → ../../blobs/<etag>.
#pragma once
#include <optional>
#include <string>

#include "bertcpp/error.h"
#include "hub/cache.h"
#include "hub/http.h"
#include "hub/resolve.h"

namespace bertcpp::hub {

struct FileMetadata {
  std::string commit;  // X-Repo-Commit
  std::string etag;    // normalised X-Linked-Etag or ETag
  std::uint64_t size = 0;
  std::string download_url;  // CDN Location or the resolve URL after relative redirects
  bool send_token = true;    // false when download_url is on another host than the hub
};

class HubClient {
 public:
  HubClient(std::string repo_id, const HubOptions& options);

  const std::string& repo_id() const { return repo_id_; }
  const std::string& endpoint() const { return endpoint_; }
  std::string resolve_url(const std::string& revision, const std::string& filename) const;

  // HEAD the file. nullopt when the hub says the file does not exist at that revision (404
  // EntryNotFound); `commit_out` then receives X-Repo-Commit if the hub sent it. Other failures
  // throw bertcpp::Error (Network / NotFound / Unauthorized).
  std::optional<FileMetadata> head(const std::string& revision, const std::string& filename,
                                   std::optional<std::string>* commit_out = nullptr) const;

  // Downloads the blob for `meta` into `cache` (no-op if blobs/<etag> exists) and links
  // snapshots/<meta.commit>/<filename> to it.
  void download(const RepoCache& cache, const std::string& filename, const FileMetadata& meta) const;

  // "; <hint>" appended to every error message.
  std::string hint(ErrorKind kind) const;

 private:
  std::vector<std::string> auth_headers() const;
  void fetch_blob(const RepoCache& cache, const std::string& filename, const FileMetadata& meta) const;

  std::string repo_id_;
  std::string endpoint_;
  std::optional<std::string> token_;
  bool progress_;
  HttpTimeouts timeouts_;
};

}  // namespace bertcpp::hub
