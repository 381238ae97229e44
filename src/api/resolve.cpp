#include "api/resolve.h"

#include "bertcpp/error.h"
#include "hub/resolve.h"

namespace bertcpp::api {

std::filesystem::path resolve_model_dir(const std::string& id_or_path, const std::string& revision) {
  namespace fs = std::filesystem;
  if (id_or_path.empty()) throw invalid_argument("empty model id or path");
  std::error_code ec;
  const fs::path p(id_or_path);
  if (fs::is_directory(p, ec)) return p;
  if (fs::exists(p, ec))
    throw invalid_argument("'" + id_or_path + "' is a file; pass the model's folder (config.json, weights, vocab.txt)");
  hub::HubOptions o = hub::options_from_env();
  if (!revision.empty()) o.revision = revision;
  return hub::resolve_model(id_or_path, o);
}

}  // namespace bertcpp::api
