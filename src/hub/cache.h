// The Hugging Face hub cache, laid out exactly as huggingface_hub writes it:
//   <cache_dir>/models--<org>--<name>/
//     blobs/<etag>                         file contents, named by normalised etag
//     blobs/<etag>.incomplete              partial download (resumed with a Range request)
//     refs/<revision>                      commit sha the branch/tag points to (no newline)
//     snapshots/<commit>/<file>            relative symlink to ../../blobs/<etag>
//     .no_exist/<commit>/<file>            empty marker: file does not exist at that commit
//   <cache_dir>/.locks/models--<org>--<name>/<etag>.lock
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::hub {

bool is_commit_hash(std::string_view s);  // 40 lowercase hex digits
bool is_sha256(std::string_view s);       // 64 lowercase hex digits
// ETag header → blob name: drops a leading W/ and the surrounding quotes.
std::string normalize_etag(std::string_view etag);
// "org/name" → "models--org--name".
std::string repo_folder_name(const std::string& repo_id);
// Throws InvalidArgument unless `name` is a safe relative path inside a repo (no "..", no
// absolute path, no empty or "." component, no backslash). Used for file names and revisions
// that come from the hub or from the user before they become paths in the cache.
void check_relative_name(const std::string& name, const std::string& what);

class RepoCache {
 public:
  RepoCache(std::filesystem::path cache_dir, std::string repo_id);

  const std::filesystem::path& cache_dir() const { return cache_dir_; }
  const std::string& repo_id() const { return repo_id_; }
  const std::filesystem::path& storage() const { return storage_; }
  std::filesystem::path blob_path(const std::string& etag) const;
  std::filesystem::path incomplete_path(const std::string& etag) const;
  std::filesystem::path lock_path(const std::string& etag) const;
  std::filesystem::path snapshot_dir(const std::string& commit) const;
  std::filesystem::path pointer_path(const std::string& commit, const std::string& filename) const;
  std::filesystem::path no_exist_path(const std::string& commit, const std::string& filename) const;
  std::filesystem::path ref_path(const std::string& revision) const;

  // Commit sha for `revision`: itself if it is a commit sha, else the content of refs/<revision>.
  std::optional<std::string> resolve_revision(const std::string& revision) const;
  // Writes refs/<revision> = commit atomically (no newline); nothing if revision is the commit or
  // the ref already holds it.
  void write_ref(const std::string& revision, const std::string& commit) const;
  // The snapshot file exists (a symlink whose blob exists, or a plain file).
  bool has_file(const std::string& commit, const std::string& filename) const;
  bool marked_missing(const std::string& commit, const std::string& filename) const;
  void mark_missing(const std::string& commit, const std::string& filename) const;  // best effort
  // snapshots/<commit>/<filename> → relative symlink to blobs/<etag> (copy if symlinks fail).
  void link_blob(const std::string& commit, const std::string& filename, const std::string& etag) const;

 private:
  std::filesystem::path cache_dir_;
  std::string repo_id_;
  std::filesystem::path storage_;
};

// Exclusive advisory lock (flock) on a lock file, released on destruction.
class FileLock {
 public:
  explicit FileLock(const std::filesystem::path& path);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

struct CachedRevision {
  std::string commit;
  std::vector<std::string> refs;  // branch/tag names pointing at this commit
  std::filesystem::path snapshot;
  std::size_t files = 0;
};
struct CachedRepo {
  std::string repo_id;
  std::filesystem::path folder;
  std::uintmax_t size_on_disk = 0;  // sum of blobs/ (complete files)
  std::vector<CachedRevision> revisions;
};
// Every model repo in the cache, sorted by id. Missing cache dir → empty list.
std::vector<CachedRepo> scan_cache(const std::filesystem::path& cache_dir);

}  // namespace bertcpp::hub
