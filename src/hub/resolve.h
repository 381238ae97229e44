// Hugging Face hub layer: turns a model id ("google-bert/bert-base-uncased", legacy
// "bert-base-uncased") or a local folder into a local folder holding config.json, the weights
// and the tokenizer files. It shares the cache of transformers/huggingface_hub (same layout, same
// environment variables) and downloads what is missing with libcurl. See docs/hub.md.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace bertcpp::hub {

struct HubOptions {
  std::string endpoint;             // $HF_ENDPOINT or "https://huggingface.co"
  std::string revision = "main";    // branch, tag or commit sha
  std::optional<std::string> token; // $HF_TOKEN (also $HUGGING_FACE_HUB_TOKEN, and the token file $HF_HOME/token like huggingface_hub)
  std::filesystem::path cache_dir;  // $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub (XDG_CACHE_HOME like huggingface_hub)
  bool offline = false;             // $HF_HUB_OFFLINE=1 (also TRANSFORMERS_OFFLINE=1)
  bool progress = true;             // progress bar on stderr only when stderr is a terminal
  long connect_timeout_s = 10;      // $HF_HUB_ETAG_TIMEOUT: connect timeout, HEAD requests get 3x this
  long read_timeout_s = 30;         // $HF_HUB_DOWNLOAD_TIMEOUT: a download stalled this long fails
};

HubOptions options_from_env();

// Same as options_from_env() but reads variables through `getenv` (returns nullopt when unset);
// lets tests build options without touching the process environment.
using EnvLookup = std::function<std::optional<std::string>(const char* name)>;
HubOptions options_from_env(const EnvLookup& getenv);

// An existing local directory → itself. Else the HF cache (snapshot for the revision, via refs/<revision>
// or a commit sha) → that snapshot dir, with no network if it has what is needed. Else download the
// needed files into the cache and return the snapshot dir. Throws bertcpp::Error (Network / NotFound /
// Unauthorized / InvalidArgument) with one clear message: what failed, and "set HF_ENDPOINT, or pass a local folder".
std::filesystem::path resolve_model(const std::string& id_or_path, const HubOptions& options = options_from_env());

// Like resolve_model for a hub id, but always asks the hub which commit the revision points to
// (so a moved branch is picked up), then downloads whatever that snapshot is missing. Files
// already in the cache (blobs with the same etag) are not downloaded again. `bertcpp download`.
std::filesystem::path download_model(const std::string& repo_id, const HubOptions& options = options_from_env());

// True if `s` is a syntactically valid hub model id: "name" or "namespace/name".
bool is_valid_repo_id(const std::string& s);

}  // namespace bertcpp::hub
