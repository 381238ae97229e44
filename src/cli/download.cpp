// bertcpp download: fetch a Hugging Face model into the shared HF cache; prints the snapshot path.
#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "hub/resolve.h"

namespace bertcpp::cli {
namespace {

struct DownloadArgs {
  std::string id;
  std::string revision = "main";
  std::string cache_dir;
  bool quiet = false;
};

int run_download(const DownloadArgs& a) {
  hub::HubOptions o = hub::options_from_env();
  o.revision = a.revision;
  if (!a.cache_dir.empty()) o.cache_dir = a.cache_dir;
  if (a.quiet) o.progress = false;
  const auto path = hub::download_model(a.id, o);
  std::printf("%s\n", path.string().c_str());
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<DownloadArgs>();
  app.footer(
      "Downloads config.json, the weights (model.safetensors or its shards; pytorch_model.bin only when the\n"
      "repo has no safetensors), the tokenizer files and sentence-transformers files (modules.json, pooling\n"
      "config) into the Hugging Face cache shared with transformers/huggingface_hub, then prints the snapshot\n"
      "folder. Files already cached are not downloaded again; an interrupted download resumes.\n"
      "Environment: HF_ENDPOINT (hub URL or mirror), HF_TOKEN (gated/private models), HF_HUB_CACHE / HF_HOME\n"
      "(cache location), HF_HUB_OFFLINE=1 (cache only), https_proxy. See docs/hub.md.\n"
      "Example: bertcpp download sentence-transformers/all-MiniLM-L6-v2");
  app.add_option("id", a->id, "Model id on the hub, e.g. google-bert/bert-base-uncased (always asked of the hub, even if a local folder has that name)")->required();
  app.add_option("-r,--revision", a->revision, "Branch, tag or commit sha")->default_val("main");
  app.add_option("--cache-dir", a->cache_dir, "Hub cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)");
  app.add_flag("-q,--quiet", a->quiet, "No progress bar");
  return [a] { return run_download(*a); };
}

const bool registered = register_command({"download", "Download a model from the Hugging Face hub into the shared cache", 80, setup});

}  // namespace
}  // namespace bertcpp::cli
