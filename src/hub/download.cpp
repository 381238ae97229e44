#include "hub/download.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "hub/sha256.h"

namespace fs = std::filesystem;

namespace bertcpp::hub {

namespace {

constexpr int kMaxResumes = 5;

bool safe_blob_name(const std::string& etag) {
  if (etag.empty() || etag.size() > 200 || etag[0] == '.') return false;
  for (char c : etag)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

std::string human_size(std::uint64_t n) {
  char buf[32];
  if (n >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.2f GB", n / 1073741824.0);
  else if (n >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1f MB", n / 1048576.0);
  else if (n >= 1024)
    std::snprintf(buf, sizeof buf, "%.1f kB", n / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  return buf;
}

// A one-line progress bar on stderr, redrawn at most 10 times a second; only on a terminal.
class ProgressBar {
 public:
  ProgressBar(std::string name, std::uint64_t total, bool enabled)
      : name_(std::move(name)), total_(total), enabled_(enabled && ::isatty(2)) {}
  ~ProgressBar() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void update(std::uint64_t have, std::uint64_t total) {
    if (!enabled_) return;
    if (total == 0) total = total_;
    auto now = std::chrono::steady_clock::now();
    bool done = total > 0 && have >= total;
    if (drawn_ && !done && now - last_ < std::chrono::milliseconds(100)) return;
    last_ = now;
    drawn_ = true;
    std::string shown = name_.size() > 40 ? "..." + name_.substr(name_.size() - 37) : name_;
    if (total > 0) {
      int pct = static_cast<int>(100.0 * static_cast<double>(have) / static_cast<double>(total));
      pct = std::min(pct, 100);
      std::string bar(static_cast<std::size_t>(pct / 5), '#');
      bar.resize(20, '.');
      std::fprintf(stderr, "\r%-40s [%s] %3d%%  %s / %s   ", shown.c_str(), bar.c_str(), pct, human_size(have).c_str(),
                   human_size(total).c_str());
    } else {
      std::fprintf(stderr, "\r%-40s %s   ", shown.c_str(), human_size(have).c_str());
    }
    std::fflush(stderr);
  }

 private:
  std::string name_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_{};
};

std::uint64_t file_size_or_zero(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<std::uint64_t>(n);
}

}  // namespace

HubClient::HubClient(std::string repo_id, const HubOptions& options)
    : repo_id_(std::move(repo_id)),
      endpoint_(options.endpoint.empty() ? "https://huggingface.co" : options.endpoint),
      token_(options.token),
      progress_(options.progress) {
  while (endpoint_.size() > 1 && endpoint_.back() == '/') endpoint_.pop_back();
  timeouts_.connect_s = std::max(1L, options.connect_timeout_s);
  timeouts_.head_s = 3 * timeouts_.connect_s;
  timeouts_.stall_s = std::max(1L, options.read_timeout_s);
}

std::string HubClient::resolve_url(const std::string& revision, const std::string& filename) const {
  return endpoint_ + "/" + repo_id_ + "/resolve/" + url_quote(revision, false) + "/" + url_quote(filename, true);
}

std::vector<std::string> HubClient::auth_headers() const {
  if (!token_ || token_->empty()) return {};
  return {"Authorization: Bearer " + *token_};
}

std::string HubClient::hint(ErrorKind kind) const {
  switch (kind) {
    case ErrorKind::Network:
      return "; check your connection (or proxy), set HF_ENDPOINT, or pass a local folder";
    case ErrorKind::Unauthorized:
      return "; set HF_TOKEN to a token with access, set HF_ENDPOINT, or pass a local folder";
    case ErrorKind::NotFound:
      return "; check the model id and --revision, set HF_ENDPOINT, or pass a local folder";
    default:
      return "; set HF_ENDPOINT, or pass a local folder";
  }
}

std::optional<FileMetadata> HubClient::head(const std::string& revision, const std::string& filename,
                                            std::optional<std::string>* commit_out) const {
  std::string url = resolve_url(revision, filename);
  const std::string origin = url_origin(endpoint_ + "/");
  const std::string what = repo_id_ + " (" + filename + ", revision " + revision + ")";
  HttpResponse r;
  // Follow relative redirects only (a renamed repo: /bert-base-uncased/... → /google-bert/...);
  // an absolute Location is the download URL (the LFS CDN).
  for (int hops = 0;; ++hops) {
    r = http_head(url, auth_headers(), timeouts_);
    if (!r.transfer_ok)
      throw Error(ErrorKind::Network, "cannot reach the hub at " + endpoint_ + " for " + what + ": " + r.transfer_error +
                                          hint(ErrorKind::Network));
    if (r.status >= 300 && r.status < 400) {
      std::string loc = r.header("location").value_or("");
      if (!loc.empty() && loc[0] == '/') {
        if (hops >= 10)
          throw Error(ErrorKind::Network, "too many redirects from " + endpoint_ + " for " + what + hint(ErrorKind::Network));
        std::size_t q = loc.find_first_of("?#");
        url = url_origin(url) + loc.substr(0, q);
        continue;
      }
    }
    break;
  }

  const std::string code = r.header("x-error-code").value_or("");
  const auto repo_commit = r.header("x-repo-commit");
  if (r.status == 404 || r.status == 401 || r.status == 403) {
    if (r.status == 404 && (code == "EntryNotFound" || (code.empty() && repo_commit))) {
      if (commit_out) *commit_out = repo_commit;
      return std::nullopt;
    }
    if (code == "RevisionNotFound")
      throw Error(ErrorKind::NotFound, "revision '" + revision + "' not found in " + repo_id_ + " on " + endpoint_ +
                                           hint(ErrorKind::NotFound));
    if (code == "GatedRepo")
      throw Error(ErrorKind::Unauthorized,
                  repo_id_ + " is a gated model (HTTP " + std::to_string(r.status) + "): " +
                      (token_ ? "the token in HF_TOKEN has no access, accept its conditions at "
                              : "request access at ") +
                      endpoint_ + "/" + repo_id_ + hint(ErrorKind::Unauthorized));
    if (code == "RepoNotFound" || r.status == 404)
      throw Error(ErrorKind::NotFound, "model '" + repo_id_ + "' not found on " + endpoint_ + " (HTTP " +
                                           std::to_string(r.status) + ")" +
                                           (token_ ? "" : "; if it is private, set HF_TOKEN") + hint(ErrorKind::NotFound));
    throw Error(ErrorKind::Unauthorized, "access to " + repo_id_ + " denied by " + endpoint_ + " (HTTP " +
                                             std::to_string(r.status) + ")" + hint(ErrorKind::Unauthorized));
  }
  if (r.status < 200 || r.status >= 400)
    throw Error(ErrorKind::Network, "the hub at " + endpoint_ + " answered HTTP " + std::to_string(r.status) + " for " +
                                        what + hint(ErrorKind::Network));

  FileMetadata meta;
  if (!repo_commit || !is_commit_hash(*repo_commit))
    throw Error(ErrorKind::Network, endpoint_ + " sent no valid X-Repo-Commit header for " + what +
                                        " (is it a Hugging Face hub, or is a proxy in the way?)" + hint(ErrorKind::Network));
  meta.commit = *repo_commit;
  auto etag = r.header("x-linked-etag");
  if (!etag) etag = r.header("etag");
  meta.etag = etag ? normalize_etag(*etag) : "";
  if (!safe_blob_name(meta.etag))
    throw Error(ErrorKind::Network, endpoint_ + " sent no usable ETag for " + what + hint(ErrorKind::Network));
  const bool redirect = r.status >= 300 && r.status < 400;
  auto size = r.header("x-linked-size");
  if (!size && !redirect) size = r.header("content-length");
  try {
    std::size_t used = 0;
    if (!size) throw std::invalid_argument("missing");
    meta.size = std::stoull(*size, &used);
    if (used != size->size()) throw std::invalid_argument("trailing");
  } catch (const std::exception&) {
    throw Error(ErrorKind::Network, endpoint_ + " sent no valid file size (X-Linked-Size/Content-Length) for " + what +
                                        hint(ErrorKind::Network));
  }
  meta.download_url = url;
  if (redirect) {
    std::string loc = r.header("location").value_or("");
    if (loc.empty())
      throw Error(ErrorKind::Network, endpoint_ + " redirected " + what + " without a Location" + hint(ErrorKind::Network));
    meta.download_url = loc;
  }
  // A signed CDN URL on another host must not receive the hub token.
  meta.send_token = url_origin(meta.download_url) == origin;
  return meta;
}

void HubClient::download(const RepoCache& cache, const std::string& filename, const FileMetadata& meta) const {
  if (cache.has_file(meta.commit, filename)) return;
  std::error_code ec;
  fs::create_directories(cache.blob_path(meta.etag).parent_path(), ec);
  if (ec)
    throw Error(ErrorKind::Internal, "cannot create " + cache.blob_path(meta.etag).parent_path().string() + ": " + ec.message());
  {
    FileLock lock(cache.lock_path(meta.etag));
    if (!fs::exists(cache.blob_path(meta.etag), ec)) fetch_blob(cache, filename, meta);
  }
  cache.link_blob(meta.commit, filename, meta.etag);
}

void HubClient::fetch_blob(const RepoCache& cache, const std::string& filename, const FileMetadata& meta) const {
  const fs::path incomplete = cache.incomplete_path(meta.etag);
  const fs::path blob = cache.blob_path(meta.etag);
  const std::string what = repo_id_ + "/" + filename;
  std::vector<std::string> headers;
  if (meta.send_token) headers = auth_headers();

  ProgressBar bar(filename, meta.size, progress_);
  int resumes_left = kMaxResumes;
  bool range_rejected = false;
  while (true) {
    std::uint64_t have = file_size_or_zero(incomplete);
    if (have > meta.size) {  // not ours: start over
      fs::remove(incomplete);
      have = 0;
    }
    if (have == meta.size && meta.size > 0) break;  // complete already (previous run stopped before rename)
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(incomplete.c_str(), "ab"), &std::fclose);
    if (!f) throw Error(ErrorKind::Internal, "cannot write " + incomplete.string());
    HttpResponse r = http_get_to_file(meta.download_url, headers, f.get(), have, timeouts_,
                                      [&bar](std::uint64_t h, std::uint64_t t) { bar.update(h, t); });
    f.reset();
    if (r.status == 416 && !range_rejected) {  // our partial file does not match the remote one
      range_rejected = true;
      fs::remove(incomplete);
      continue;
    }
    if (r.transfer_ok && r.status >= 200 && r.status < 300) break;
    if (r.status >= 400) {
      ErrorKind kind = (r.status == 401 || r.status == 403) ? ErrorKind::Unauthorized
                       : r.status == 404                    ? ErrorKind::NotFound
                                                            : ErrorKind::Network;
      throw Error(kind, "download of " + what + " failed: HTTP " + std::to_string(r.status) + " from " +
                            url_origin(meta.download_url) + hint(kind));
    }
    // Connection broke mid-file: resume from what we have (like huggingface_hub's http_get).
    if (r.bytes_written > 0 && resumes_left-- > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      continue;
    }
    throw Error(ErrorKind::Network, "download of " + what + " from " + url_origin(meta.download_url) +
                                        " interrupted after " + std::to_string(file_size_or_zero(incomplete)) + " of " +
                                        std::to_string(meta.size) + " bytes: " +
                                        (r.transfer_ok ? "HTTP " + std::to_string(r.status) : r.transfer_error) +
                                        " (run again to resume)" + hint(ErrorKind::Network));
  }

  const std::uint64_t got = file_size_or_zero(incomplete);
  if (got != meta.size) {
    fs::remove(incomplete);
    throw Error(ErrorKind::Network, "download of " + what + " is " + std::to_string(got) + " bytes but the hub said " +
                                        std::to_string(meta.size) + "; the partial file was removed, run again" +
                                        hint(ErrorKind::Network));
  }
  // LFS files are named by their SHA-256: check it before the blob enters the cache.
  if (is_sha256(meta.etag)) {
    std::string actual = sha256_file(incomplete);
    if (actual != meta.etag) {
      fs::remove(incomplete);
      throw Error(ErrorKind::Network, "download of " + what + " is corrupt: SHA-256 " + actual + " but the hub says " +
                                          meta.etag + "; the file was removed, run again" + hint(ErrorKind::Network));
    }
  }
  std::error_code ec;
  fs::rename(incomplete, blob, ec);
  if (ec) throw Error(ErrorKind::Internal, "cannot move " + incomplete.string() + " to " + blob.string() + ": " + ec.message());
}

}  // namespace bertcpp::hub
