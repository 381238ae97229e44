#include "hub/cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "bertcpp/error.h"

namespace fs = std::filesystem;

namespace bertcpp::hub {

namespace {

bool all_lower_hex(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string unique_suffix() {
  static std::atomic<unsigned> counter{0};
  std::ostringstream os;
  os << std::hex << ::getpid() << "." << counter++ << "."
     << (std::chrono::steady_clock::now().time_since_epoch().count() & 0xffffff);
  return os.str();
}

std::string read_small_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

}  // namespace

bool is_commit_hash(std::string_view s) { return s.size() == 40 && all_lower_hex(s); }
bool is_sha256(std::string_view s) { return s.size() == 64 && all_lower_hex(s); }

std::string normalize_etag(std::string_view etag) {
  // Same as huggingface_hub: etag.lstrip("W/").strip('"')
  std::size_t b = 0;
  while (b < etag.size() && (etag[b] == 'W' || etag[b] == '/')) ++b;
  std::size_t e = etag.size();
  while (b < e && etag[b] == '"') ++b;
  while (e > b && etag[e - 1] == '"') --e;
  return std::string(etag.substr(b, e - b));
}

std::string repo_folder_name(const std::string& repo_id) {
  std::string out = "models";
  std::size_t start = 0;
  while (true) {
    std::size_t slash = repo_id.find('/', start);
    out += "--";
    out += repo_id.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return out;
}

void check_relative_name(const std::string& name, const std::string& what) {
  auto bad = [&](const char* why) {
    return invalid_argument(what + " '" + name + "' is not a safe relative path (" + why + ")");
  };
  if (name.empty()) throw bad("empty");
  if (name.front() == '/') throw bad("absolute");
  if (name.find('\\') != std::string::npos) throw bad("backslash");
  if (name.find('\0') != std::string::npos) throw bad("NUL byte");
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t slash = name.find('/', start);
    std::string part = name.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (part.empty() || part == "." || part == "..") throw bad("empty, '.' or '..' component");
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
}

RepoCache::RepoCache(fs::path cache_dir, std::string repo_id)
    : cache_dir_(std::move(cache_dir)), repo_id_(std::move(repo_id)), storage_(cache_dir_ / repo_folder_name(repo_id_)) {}

fs::path RepoCache::blob_path(const std::string& etag) const { return storage_ / "blobs" / etag; }
fs::path RepoCache::incomplete_path(const std::string& etag) const {
  return storage_ / "blobs" / (etag + ".incomplete");
}
fs::path RepoCache::lock_path(const std::string& etag) const {
  return cache_dir_ / ".locks" / repo_folder_name(repo_id_) / (etag + ".lock");
}
fs::path RepoCache::snapshot_dir(const std::string& commit) const { return storage_ / "snapshots" / commit; }
fs::path RepoCache::pointer_path(const std::string& commit, const std::string& filename) const {
  return snapshot_dir(commit) / fs::path(filename);
}
fs::path RepoCache::no_exist_path(const std::string& commit, const std::string& filename) const {
  return storage_ / ".no_exist" / commit / fs::path(filename);
}
fs::path RepoCache::ref_path(const std::string& revision) const { return storage_ / "refs" / fs::path(revision); }

std::optional<std::string> RepoCache::resolve_revision(const std::string& revision) const {
  if (is_commit_hash(revision)) return revision;
  std::error_code ec;
  fs::path ref = ref_path(revision);
  if (!fs::is_regular_file(ref, ec)) return std::nullopt;
  std::string commit = read_small_file(ref);
  // huggingface_hub writes no newline; tolerate one written by hand.
  while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r' || commit.back() == ' ')) commit.pop_back();
  if (commit.empty()) return std::nullopt;
  return commit;
}

void RepoCache::write_ref(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return;
  fs::path ref = ref_path(revision);
  if (auto current = resolve_revision(revision); current && *current == commit) return;
  fs::create_directories(ref.parent_path());
  std::string tmp_name = ref.filename().string();
  tmp_name.append(".").append(unique_suffix()).append(".tmp");
  fs::path tmp = ref.parent_path() / tmp_name;
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << commit;
    if (!out) throw Error(ErrorKind::Internal, "cannot write " + tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, ref, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(ErrorKind::Internal, "cannot write " + ref.string() + ": " + ec.message());
  }
}

bool RepoCache::has_file(const std::string& commit, const std::string& filename) const {
  std::error_code ec;
  return fs::is_regular_file(pointer_path(commit, filename), ec);  // follows the symlink
}

bool RepoCache::marked_missing(const std::string& commit, const std::string& filename) const {
  std::error_code ec;
  return fs::is_regular_file(no_exist_path(commit, filename), ec);
}

void RepoCache::mark_missing(const std::string& commit, const std::string& filename) const {
  std::error_code ec;
  fs::path p = no_exist_path(commit, filename);
  fs::create_directories(p.parent_path(), ec);
  if (ec) return;
  if (!fs::exists(p, ec)) std::ofstream(p, std::ios::binary | std::ios::app);
}

void RepoCache::link_blob(const std::string& commit, const std::string& filename, const std::string& etag) const {
  fs::path dst = pointer_path(commit, filename);
  fs::create_directories(dst.parent_path());
  // snapshots/<commit>/<a>/<b> → ../../../blobs/<etag>: one ".." per path component of the
  // file name, plus one for the commit folder.
  std::string target;
  std::size_t depth = 1 + static_cast<std::size_t>(std::count(filename.begin(), filename.end(), '/'));
  for (std::size_t i = 0; i < depth + 1; ++i) target += "../";
  target += "blobs/" + etag;

  std::error_code ec;
  fs::remove(dst, ec);
  fs::create_symlink(target, dst, ec);
  if (!ec) return;
  if (ec == std::errc::file_exists) {
    std::error_code ec2;
    if (fs::is_symlink(dst, ec2) && fs::read_symlink(dst, ec2) == fs::path(target)) return;  // concurrent writer
  }
  // Filesystem without symlinks: fall back to a copy, like huggingface_hub.
  std::error_code ec3;
  fs::copy_file(blob_path(etag), dst, fs::copy_options::overwrite_existing, ec3);
  if (ec3)
    throw Error(ErrorKind::Internal, "cannot create " + dst.string() + " in the hub cache: " + ec.message());
}

FileLock::FileLock(const fs::path& path) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) return;  // best effort (read-only cache dir): proceed without the lock
  while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
  }
}

FileLock::~FileLock() {
  if (fd_ >= 0) {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
}

std::vector<CachedRepo> scan_cache(const fs::path& cache_dir) {
  std::vector<CachedRepo> repos;
  std::error_code ec;
  if (!fs::is_directory(cache_dir, ec)) return repos;
  for (const auto& entry : fs::directory_iterator(cache_dir, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("models--", 0) != 0 || !entry.is_directory(ec)) continue;
    CachedRepo repo;
    repo.folder = entry.path();
    // models--org--name → org/name
    std::string rest = name.substr(8);
    for (std::size_t pos; (pos = rest.find("--")) != std::string::npos;) rest.replace(pos, 2, "/");
    repo.repo_id = rest;

    fs::path blobs = entry.path() / "blobs";
    if (fs::is_directory(blobs, ec))
      for (const auto& b : fs::directory_iterator(blobs, ec)) {
        std::error_code e2;
        if (b.is_regular_file(e2) && b.path().extension() != ".incomplete") repo.size_on_disk += b.file_size(e2);
      }

    std::map<std::string, std::vector<std::string>> refs_by_commit;
    fs::path refs = entry.path() / "refs";
    if (fs::is_directory(refs, ec))
      for (const auto& r : fs::recursive_directory_iterator(refs, ec)) {
        std::error_code e2;
        if (!r.is_regular_file(e2)) continue;
        std::string ref = fs::relative(r.path(), refs, e2).generic_string();
        std::string commit = read_small_file(r.path());
        while (!commit.empty() && (commit.back() == '\n' || commit.back() == '\r')) commit.pop_back();
        refs_by_commit[commit].push_back(ref);
      }
    fs::path snapshots = entry.path() / "snapshots";
    if (fs::is_directory(snapshots, ec))
      for (const auto& s : fs::directory_iterator(snapshots, ec)) {
        std::error_code e2;
        if (!s.is_directory(e2)) continue;
        CachedRevision rev;
        rev.commit = s.path().filename().string();
        rev.snapshot = s.path();
        if (auto it = refs_by_commit.find(rev.commit); it != refs_by_commit.end()) {
          rev.refs = it->second;
          std::sort(rev.refs.begin(), rev.refs.end());
        }
        for (const auto& f : fs::recursive_directory_iterator(s.path(), e2)) {
          std::error_code e3;
          if (!f.is_directory(e3)) ++rev.files;
        }
        repo.revisions.push_back(std::move(rev));
      }
    std::sort(repo.revisions.begin(), repo.revisions.end(),
              [](const CachedRevision& a, const CachedRevision& b) { return a.commit < b.commit; });
    repos.push_back(std::move(repo));
  }
  std::sort(repos.begin(), repos.end(), [](const CachedRepo& a, const CachedRepo& b) { return a.repo_id < b.repo_id; });
  return repos;
}

}  // namespace bertcpp::hub
