// bertcpp cache ls: the models in the Hugging Face hub cache (shared with transformers).
#include <cstdio>
#include <memory>
#include <string>

#include "cli/command.h"
#include "hub/cache.h"
#include "hub/resolve.h"

namespace bertcpp::cli {
namespace {

struct CacheArgs {
  std::string cache_dir;
  CLI::App* ls = nullptr;
};

std::string human(std::uintmax_t n) {
  char buf[32];
  if (n >= (1ull << 30))
    std::snprintf(buf, sizeof buf, "%.1fG", static_cast<double>(n) / 1073741824.0);
  else if (n >= (1ull << 20))
    std::snprintf(buf, sizeof buf, "%.1fM", static_cast<double>(n) / 1048576.0);
  else if (n >= 1024)
    std::snprintf(buf, sizeof buf, "%.1fK", static_cast<double>(n) / 1024.0);
  else
    std::snprintf(buf, sizeof buf, "%juB", n);
  return buf;
}

int run_ls(const CacheArgs& a) {
  std::filesystem::path dir = a.cache_dir.empty() ? hub::options_from_env().cache_dir : std::filesystem::path(a.cache_dir);
  auto repos = hub::scan_cache(dir);
  if (repos.empty()) {
    std::printf("no models in the hub cache %s\n", dir.string().c_str());
    return 0;
  }
  std::size_t w = 7;
  for (const auto& r : repos) w = std::max(w, r.repo_id.size());
  std::printf("%-*s  %-12s  %-12s  %7s  %5s  %s\n", static_cast<int>(w), "REPO ID", "REVISION", "REFS", "SIZE", "FILES",
              "SNAPSHOT");
  std::uintmax_t total = 0;
  for (const auto& r : repos) {
    total += r.size_on_disk;
    if (r.revisions.empty())
      std::printf("%-*s  %-12s  %-12s  %7s  %5s  %s\n", static_cast<int>(w), r.repo_id.c_str(), "-", "-",
                  human(r.size_on_disk).c_str(), "0", r.folder.string().c_str());
    for (const auto& rev : r.revisions) {
      std::string refs;
      for (const auto& ref : rev.refs) refs += (refs.empty() ? "" : ",") + ref;
      if (refs.empty()) refs = "-";
      std::printf("%-*s  %-12s  %-12s  %7s  %5zu  %s\n", static_cast<int>(w), r.repo_id.c_str(),
                  rev.commit.substr(0, 12).c_str(), refs.c_str(), human(r.size_on_disk).c_str(), rev.files,
                  rev.snapshot.string().c_str());
    }
  }
  std::printf("%zu model(s), %s in %s\n", repos.size(), human(total).c_str(), dir.string().c_str());
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<CacheArgs>();
  app.require_subcommand(1);
  a->ls = app.add_subcommand("ls", "List cached models: id, revision (commit), refs, size, snapshot path");
  a->ls->add_option("--cache-dir", a->cache_dir,
                    "Hub cache folder (default: $HF_HUB_CACHE, $HF_HOME/hub or ~/.cache/huggingface/hub)");
  app.footer(
      "The cache is the one transformers/huggingface_hub use (same layout and environment variables), so\n"
      "models downloaded by either are listed. Size counts each repo's blobs once. Example: bertcpp cache ls");
  return [a] {
    if (a->ls->parsed()) return run_ls(*a);
    return 2;
  };
}

const bool registered = register_command({"cache", "Inspect the Hugging Face hub cache (bertcpp cache ls)", 81, setup});

}  // namespace
}  // namespace bertcpp::cli
