#include "hub/resolve.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "hub/cache.h"
#include "hub/download.h"
#include "io/json_util.h"
#include "io/sentencepiece_files.h"

namespace fs = std::filesystem;

namespace bertcpp::hub {

namespace {

// Files fetched when present; each may be absent from a repo (404 → .no_exist marker).
const char* const kTokenizerFiles[] = {"vocab.txt", "tokenizer_config.json", "special_tokens_map.json",
                                       "added_tokens.json", "tokenizer.json"};
const char* const kSentenceTransformersFiles[] = {"modules.json", "sentence_bert_config.json",
                                                  "config_sentence_transformers.json"};

bool env_true(const std::optional<std::string>& v) {
  if (!v) return false;
  std::string u = *v;
  std::transform(u.begin(), u.end(), u.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return u == "1" || u == "ON" || u == "YES" || u == "TRUE";
}

std::optional<std::string> non_empty(std::optional<std::string> v) {
  if (v && v->empty()) return std::nullopt;
  return v;
}

std::string expand_user(const std::string& p, const EnvLookup& getenv) {
  if (p == "~" || p.rfind("~/", 0) == 0) {
    if (auto home = non_empty(getenv("HOME"))) return *home + p.substr(1);
  }
  return p;
}

std::optional<std::string> clean_token(std::string t) {
  t.erase(std::remove(t.begin(), t.end(), '\r'), t.end());
  t.erase(std::remove(t.begin(), t.end(), '\n'), t.end());
  std::size_t b = t.find_first_not_of(" \t");
  if (b == std::string::npos) return std::nullopt;
  std::size_t e = t.find_last_not_of(" \t");
  return t.substr(b, e - b + 1);
}

long env_seconds(const std::optional<std::string>& v, long fallback) {
  if (!v) return fallback;
  try {
    double s = std::stod(*v);
    if (s >= 1 && s < 1e6) return static_cast<long>(s);
  } catch (const std::exception&) {
  }
  return fallback;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream os;
  os << in.rdbuf();
  return os.str();
}

// Unique shard file names listed by a *.index.json weight_map.
std::vector<std::string> shards_of(const fs::path& index_file, const std::string& index_name) {
  const nlohmann::json j = io::parse_json_strict(io::read_small_file(index_file.string(), 64u << 20), index_name);
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    throw invalid_file(index_name, "has no \"weight_map\" object");
  std::set<std::string> names;
  for (const auto& [tensor, shard] : j["weight_map"].items()) {
    if (!shard.is_string()) throw invalid_file(index_name, "weight_map[\"" + tensor + "\"] is not a string");
    std::string s = shard.get<std::string>();
    try {
      check_relative_name(s, "shard");
    } catch (const Error& e) {
      throw invalid_file(index_name, e.what());
    }
    names.insert(s);
  }
  if (names.empty()) throw invalid_file(index_name, "weight_map is empty");
  return {names.begin(), names.end()};
}

struct Module {
  std::string path;
  std::string type;
};

std::vector<Module> modules_of(const fs::path& modules_file) {
  const nlohmann::json j = io::parse_json_strict(io::read_small_file(modules_file.string(), 16u << 20), "modules.json");
  if (!j.is_array()) throw invalid_file("modules.json", "is not a JSON array");
  std::vector<Module> out;
  for (const auto& m : j) {
    if (!m.is_object()) throw invalid_file("modules.json", "an entry is not an object");
    Module mod;
    if (m.contains("path") && m["path"].is_string()) mod.path = m["path"].get<std::string>();
    if (m.contains("type") && m["type"].is_string()) mod.type = m["type"].get<std::string>();
    while (!mod.path.empty() && mod.path.back() == '/') mod.path.pop_back();
    if (mod.path.empty()) continue;  // the transformer itself lives at the repo root
    try {
      check_relative_name(mod.path, "module path");
    } catch (const Error& e) {
      throw invalid_file("modules.json", e.what());
    }
    out.push_back(std::move(mod));
  }
  return out;
}

bool is_dense(const Module& m) { return m.type.find("Dense") != std::string::npos; }

// --- what a cached snapshot holds -------------------------------------------------------------

// Known = present or recorded as absent.
bool known(const RepoCache& c, const std::string& commit, const std::string& f) {
  return c.has_file(commit, f) || c.marked_missing(commit, f);
}

bool index_complete(const RepoCache& c, const std::string& commit, const std::string& index) {
  if (!c.has_file(commit, index)) return false;
  try {
    for (const auto& s : shards_of(c.pointer_path(commit, index), index))
      if (!c.has_file(commit, s)) return false;
  } catch (const Error&) {
    return false;
  }
  return true;
}

bool weights_in(const RepoCache& c, const std::string& commit, const std::string& dir = "") {
  std::string p = dir.empty() ? "" : dir + "/";
  return c.has_file(commit, p + "model.safetensors") || index_complete(c, commit, p + "model.safetensors.index.json") ||
         c.has_file(commit, p + "pytorch_model.bin") || index_complete(c, commit, p + "pytorch_model.bin.index.json");
}

// config.json and a complete set of weights: enough to load the model.
bool usable(const RepoCache& c, const std::string& commit) {
  return c.has_file(commit, "config.json") && weights_in(c, commit);
}

// Usable, and every optional file is either there or known to be absent, and no better weights
// (safetensors) could exist upstream: nothing left to ask the hub.
bool complete(const RepoCache& c, const std::string& commit) {
  if (!usable(c, commit)) return false;
  bool safetensors = c.has_file(commit, "model.safetensors") ||
                     index_complete(c, commit, "model.safetensors.index.json");
  if (!safetensors && !(c.marked_missing(commit, "model.safetensors") &&
                        c.marked_missing(commit, "model.safetensors.index.json")))
    return false;
  for (const char* f : kTokenizerFiles)
    if (!known(c, commit, f)) return false;
  if (!c.has_file(commit, "tokenizer.json") && !c.has_file(commit, "vocab.txt"))
    for (const char* f : io::kSentencePieceFiles) {
      if (c.has_file(commit, f)) break;
      if (!c.marked_missing(commit, f)) return false;
    }
  for (const char* f : kSentenceTransformersFiles)
    if (!known(c, commit, f)) return false;
  if (c.has_file(commit, "modules.json")) {
    try {
      for (const auto& m : modules_of(c.pointer_path(commit, "modules.json"))) {
        if (!known(c, commit, m.path + "/config.json")) return false;
        if (is_dense(m) && !weights_in(c, commit, m.path)) return false;
      }
    } catch (const Error&) {
      return false;
    }
  }
  return true;
}

// --- fetching a snapshot ---------------------------------------------------------------------

class SnapshotFetcher {
 public:
  SnapshotFetcher(const std::string& repo_id, const HubOptions& o, std::optional<std::string> commit)
      : client_(repo_id, o), cache_(o.cache_dir, repo_id), revision_(o.revision), commit_(std::move(commit)) {}

  const std::optional<std::string>& commit() const { return commit_; }
  const RepoCache& cache() const { return cache_; }

  // Present in the snapshot afterwards? Cached files and cached absences cost no request.
  bool fetch(const std::string& name, bool required) {
    check_relative_name(name, "file name");
    if (commit_) {
      if (cache_.has_file(*commit_, name)) return true;
      if (cache_.marked_missing(*commit_, name)) {
        if (required) throw missing(name);
        return false;
      }
    }
    std::optional<std::string> missing_commit;
    auto meta = client_.head(commit_.value_or(revision_), name, &missing_commit);
    if (!meta) {
      if (missing_commit && is_commit_hash(*missing_commit)) {
        cache_.mark_missing(*missing_commit, name);
        if (!commit_) {
          commit_ = missing_commit;
          cache_.write_ref(revision_, *commit_);
        }
      }
      if (required) throw missing(name);
      return false;
    }
    if (!commit_) commit_ = meta->commit;
    cache_.write_ref(revision_, meta->commit);
    client_.download(cache_, name, *meta);
    return true;
  }

  bool fetch_weights(const std::string& dir, bool required) {
    const std::string p = dir.empty() ? "" : dir + "/";
    // safetensors first: a pytorch_model.bin is only fetched when neither model.safetensors nor
    // its sharded index exists.
    for (const std::string base : {"model.safetensors", "pytorch_model.bin"}) {
      if (fetch(p + base, false)) return true;
      const std::string index = p + base + ".index.json";
      if (fetch(index, false)) {
        for (const auto& shard : shards_of(cache_.pointer_path(*commit_, index), index)) fetch(p + shard, true);
        return true;
      }
    }
    if (required)
      throw Error(ErrorKind::NotFound, client_.repo_id() + " has no model weights (model.safetensors, pytorch_model.bin "
                                       "or a sharded *.index.json) at revision " + revision_ +
                                           client_.hint(ErrorKind::NotFound));
    return false;
  }

  void fetch_all() {
    fetch("config.json", true);
    fetch_weights("", true);
    for (const char* f : kTokenizerFiles) fetch(f, false);
    // Without tokenizer.json or vocab.txt the tokenizer is converted from a SentencePiece model (the first found).
    if (!cache_.has_file(*commit_, "tokenizer.json") && !cache_.has_file(*commit_, "vocab.txt"))
      for (const char* f : io::kSentencePieceFiles)
        if (fetch(f, false)) break;
    for (const char* f : kSentenceTransformersFiles) fetch(f, false);
    if (cache_.has_file(*commit_, "modules.json")) {
      for (const auto& m : modules_of(cache_.pointer_path(*commit_, "modules.json"))) {
        fetch(m.path + "/config.json", false);
        if (is_dense(m)) fetch_weights(m.path, false);
      }
    }
  }

 private:
  Error missing(const std::string& name) const {
    if (name == "config.json")
      return Error(ErrorKind::NotFound, client_.repo_id() + " has no config.json at revision " + revision_ +
                                            " (not a transformers model?)" + client_.hint(ErrorKind::NotFound));
    return Error(ErrorKind::NotFound, client_.repo_id() + " has no " + name + " at revision " + revision_ +
                                          client_.hint(ErrorKind::NotFound));
  }

  HubClient client_;
  RepoCache cache_;
  std::string revision_;
  std::optional<std::string> commit_;
};

HubOptions normalized(HubOptions o) {
  if (o.endpoint.empty() || o.cache_dir.empty()) {
    HubOptions env = options_from_env();
    if (o.endpoint.empty()) o.endpoint = env.endpoint;
    if (o.cache_dir.empty()) o.cache_dir = env.cache_dir;
  }
  while (o.endpoint.size() > 1 && o.endpoint.back() == '/') o.endpoint.pop_back();
  if (o.revision.empty()) o.revision = "main";
  check_relative_name(o.revision, "revision");
  return o;
}

bool looks_like_path(const std::string& s) {
  if (s.empty()) return false;
  if (s[0] == '/' || s[0] == '.' || s[0] == '~' || s.find('\\') != std::string::npos) return true;
  return std::count(s.begin(), s.end(), '/') > 1;
}

// Returns the local folder for `s` if it names one; throws if it names a missing path/a file.
std::optional<fs::path> local_folder(const std::string& s) {
  std::error_code ec;
  fs::path p = expand_user(s, [](const char* n) -> std::optional<std::string> {
    const char* v = std::getenv(n);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
  if (fs::is_directory(p, ec)) return p;
  if (fs::exists(p, ec))
    throw invalid_argument("'" + s + "' is a file, not a model folder: pass the folder holding config.json, or a "
                           "Hugging Face model id");
  if (looks_like_path(s))
    throw not_found("local model folder '" + s + "' does not exist; pass an existing folder or a Hugging Face model id");
  return std::nullopt;
}

fs::path offline_or_cached(const std::string& repo_id, const HubOptions& o) {
  RepoCache cache(o.cache_dir, repo_id);
  auto commit = cache.resolve_revision(o.revision);
  if (commit && usable(cache, *commit)) return cache.snapshot_dir(*commit);
  std::string why = !commit ? "is not in the hub cache " + o.cache_dir.string()
                            : "has an incomplete snapshot " + cache.snapshot_dir(*commit).string() +
                                  " (no config.json or weights)";
  throw Error(ErrorKind::NotFound, "model " + repo_id + " (revision " + o.revision + ") " + why +
                                       " and offline mode is on (HF_HUB_OFFLINE=1); run `bertcpp download " + repo_id +
                                       "` with network, unset HF_HUB_OFFLINE, set HF_ENDPOINT, or pass a local folder");
}

void check_repo_id(const std::string& id) {
  if (!is_valid_repo_id(id))
    throw invalid_argument("'" + id + "' is neither an existing local folder nor a valid Hugging Face model id "
                           "(\"name\" or \"org/name\"); set HF_ENDPOINT, or pass a local folder");
}

}  // namespace

HubOptions options_from_env(const EnvLookup& getenv) {
  HubOptions o;
  auto get = [&](const char* n) { return non_empty(getenv(n)); };
  o.endpoint = get("HF_ENDPOINT").value_or("https://huggingface.co");
  while (o.endpoint.size() > 1 && o.endpoint.back() == '/') o.endpoint.pop_back();

  std::string xdg = get("XDG_CACHE_HOME").value_or(expand_user("~/.cache", getenv));
  std::string hf_home = expand_user(get("HF_HOME").value_or(xdg + "/huggingface"), getenv);
  std::string cache = get("HF_HUB_CACHE").value_or(get("HUGGINGFACE_HUB_CACHE").value_or(hf_home + "/hub"));
  o.cache_dir = expand_user(cache, getenv);

  // huggingface_hub: HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the token file (HF_TOKEN_PATH,
  // default $HF_HOME/token); blank values count as unset.
  if (auto t = get("HF_TOKEN")) {
    o.token = clean_token(*t);
  } else if (auto t2 = get("HUGGING_FACE_HUB_TOKEN")) {
    o.token = clean_token(*t2);
  }
  if (!o.token) {
    fs::path token_file = expand_user(get("HF_TOKEN_PATH").value_or(hf_home + "/token"), getenv);
    std::error_code ec;
    if (fs::is_regular_file(token_file, ec)) o.token = clean_token(read_text(token_file));
  }

  // Python's `os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE")`.
  auto offline = get("HF_HUB_OFFLINE");
  if (!offline) offline = get("TRANSFORMERS_OFFLINE");
  o.offline = env_true(offline);
  o.progress = !env_true(get("HF_HUB_DISABLE_PROGRESS_BARS"));
  o.connect_timeout_s = env_seconds(get("HF_HUB_ETAG_TIMEOUT"), o.connect_timeout_s);
  o.read_timeout_s = env_seconds(get("HF_HUB_DOWNLOAD_TIMEOUT"), o.read_timeout_s);
  return o;
}

HubOptions options_from_env() {
  return options_from_env([](const char* n) -> std::optional<std::string> {
    const char* v = std::getenv(n);
    return v ? std::optional<std::string>(v) : std::nullopt;
  });
}

bool is_valid_repo_id(const std::string& s) {
  // huggingface_hub's validate_repo_id: [namespace/]name of [A-Za-z0-9_.-], each part starting
  // and ending with a letter, digit or '_', no "--" or "..", name at most 96 characters.
  if (s.empty() || s.find("--") != std::string::npos || s.find("..") != std::string::npos) return false;
  if (s.size() >= 4 && s.compare(s.size() - 4, 4, ".git") == 0) return false;
  std::size_t slash = s.find('/');
  if (slash != std::string::npos && s.find('/', slash + 1) != std::string::npos) return false;
  auto part_ok = [](const std::string& p, std::size_t max) {
    if (p.empty() || p.size() > max) return false;
    auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    if (!word(p.front()) || !word(p.back())) return false;
    return std::all_of(p.begin(), p.end(), [&](char c) { return word(c) || c == '-' || c == '.'; });
  };
  if (slash == std::string::npos) return part_ok(s, 96);
  return part_ok(s.substr(0, slash), 96) && part_ok(s.substr(slash + 1), 96);
}

fs::path resolve_model(const std::string& id_or_path, const HubOptions& options) {
  if (auto local = local_folder(id_or_path)) return *local;
  check_repo_id(id_or_path);
  HubOptions o = normalized(options);
  RepoCache cache(o.cache_dir, id_or_path);
  auto commit = cache.resolve_revision(o.revision);
  if (commit && usable(cache, *commit)) {
    if (o.offline || complete(cache, *commit)) return cache.snapshot_dir(*commit);
    // Loadable but some optional files were never checked: ask the hub for those only. If it
    // cannot answer (no network, gated, ...) use the snapshot as it is, like huggingface_hub
    // falling back to its cache.
    try {
      SnapshotFetcher f(id_or_path, o, commit);
      f.fetch_all();
    } catch (const Error&) {
    }
    return cache.snapshot_dir(*commit);
  }
  if (o.offline) return offline_or_cached(id_or_path, o);
  SnapshotFetcher f(id_or_path, o, is_commit_hash(o.revision) ? std::optional<std::string>(o.revision) : std::nullopt);
  f.fetch_all();
  return f.cache().snapshot_dir(*f.commit());
}

fs::path download_model(const std::string& repo_id, const HubOptions& options) {
  // A valid id is always asked of the hub, even when a folder of that name is in the working directory.
  if (std::error_code ec; !is_valid_repo_id(repo_id) && fs::is_directory(repo_id, ec))
    throw invalid_argument("'" + repo_id + "' is a local folder, not a Hugging Face model id: download takes an id "
                           "such as google-bert/bert-base-uncased (other commands use a local folder as it is)");
  check_repo_id(repo_id);
  HubOptions o = normalized(options);
  if (o.offline) return offline_or_cached(repo_id, o);
  // Always ask the hub where the revision points (a branch may have moved); files of that commit
  // already in the cache are not fetched again.
  SnapshotFetcher f(repo_id, o, is_commit_hash(o.revision) ? std::optional<std::string>(o.revision) : std::nullopt);
  if (!f.commit()) f.fetch("config.json", true);
  f.fetch_all();
  return f.cache().snapshot_dir(*f.commit());
}

}  // namespace bertcpp::hub
