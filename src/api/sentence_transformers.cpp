#include "api/sentence_transformers.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "io/json_util.h"

namespace bertcpp::api {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Size-capped and depth-bounded: these small files come from the (untrusted) model folder.
json read_json(const fs::path& file) {
  return io::parse_json_strict(io::read_small_file(file.string(), 16u << 20), file.string());
}

bool flag(const json& cfg, const char* key, const fs::path& file) {
  auto it = cfg.find(key);
  if (it == cfg.end() || it->is_null()) return false;
  if (!it->is_boolean()) throw invalid_file(file.string(), std::string("field '") + key + "' must be true or false");
  return it->get<bool>();
}

// A module path inside the folder: relative, no "..", so a hostile modules.json cannot point elsewhere.
fs::path module_dir(const fs::path& dir, const std::string& path, const fs::path& file) {
  const fs::path rel(path);
  if (rel.is_absolute()) throw invalid_file(file.string(), "module path '" + path + "' must be relative");
  for (const auto& part : rel)
    if (part == "..") throw invalid_file(file.string(), "module path '" + path + "' leaves the model folder");
  return path.empty() ? dir : dir / rel;
}

}  // namespace

SentenceTransformersConfig load_sentence_transformers_config(const fs::path& dir) {
  SentenceTransformersConfig st;
  st.transformer_dir = dir;
  const fs::path modules_file = dir / "modules.json";
  std::error_code ec;
  if (!fs::is_regular_file(modules_file, ec)) return st;
  st.present = true;
  const json modules = read_json(modules_file);
  if (!modules.is_array()) throw invalid_file(modules_file.string(), "expected a JSON array of modules");
  std::vector<std::string> unsupported;
  for (const auto& m : modules) {
    if (!m.is_object() || !m.contains("type") || !m["type"].is_string())
      throw invalid_file(modules_file.string(), "every module needs a string 'type'");
    const std::string type = m["type"].get<std::string>();
    std::string path;
    if (m.contains("path")) {
      if (!m["path"].is_string()) throw invalid_file(modules_file.string(), "module 'path' must be a string");
      path = m["path"].get<std::string>();
    }
    const std::string short_type = type.substr(type.rfind('.') == std::string::npos ? 0 : type.rfind('.') + 1);
    if (short_type == "Transformer") {
      const fs::path d = module_dir(dir, path, modules_file);
      if (fs::is_regular_file(d / "config.json", ec)) st.transformer_dir = d;
    } else if (short_type == "Pooling") {
      const fs::path cfg_file = module_dir(dir, path, modules_file) / "config.json";
      if (!fs::is_regular_file(cfg_file, ec)) throw not_found(cfg_file.string() + ": Pooling module config is missing");
      const json cfg = read_json(cfg_file);
      if (!cfg.is_object()) throw invalid_file(cfg_file.string(), "expected a JSON object");
      // sentence-transformers' keys, in the order it concatenates them.
      const std::pair<const char*, Pooling> modes[] = {
          {"pooling_mode_cls_token", Pooling::Cls},
          {"pooling_mode_mean_tokens", Pooling::Mean},
          {"pooling_mode_max_tokens", Pooling::Max},
          {"pooling_mode_mean_sqrt_len_tokens", Pooling::MeanSqrtLen},
          {"pooling_mode_weightedmean_tokens", Pooling::WeightedMean},
          {"pooling_mode_lasttoken", Pooling::LastToken},
      };
      std::vector<Pooling> chosen;
      for (const auto& [key, mode] : modes)
        if (flag(cfg, key, cfg_file)) chosen.push_back(mode);
      if (auto it = cfg.find("include_prompt"); it != cfg.end() && it->is_boolean() && !it->get<bool>())
        unsupported.push_back(cfg_file.string() + " excludes the prompt from pooling (include_prompt false)");
      if (chosen.size() > 1) {
        unsupported.push_back(cfg_file.string() + " concatenates several pooling modes");
      } else if (chosen.size() == 1) {
        st.pooling = chosen.front();
      }
    } else if (short_type == "Normalize") {
      st.normalize = true;
    } else {
      unsupported.push_back("module " + type + " (" + modules_file.string() + ")");
    }
  }
  if (!unsupported.empty()) {
    st.unsupported = "sentence-transformers pipeline not supported by embed(): ";
    for (size_t i = 0; i < unsupported.size(); ++i) st.unsupported += (i ? "; " : "") + unsupported[i];
  }
  fs::path sbert_file = st.transformer_dir / "sentence_bert_config.json";
  if (!fs::is_regular_file(sbert_file, ec)) sbert_file = dir / "sentence_bert_config.json";
  if (fs::is_regular_file(sbert_file, ec)) {
    const json cfg = read_json(sbert_file);
    if (!cfg.is_object()) throw invalid_file(sbert_file.string(), "expected a JSON object");
    if (auto it = cfg.find("max_seq_length"); it != cfg.end() && !it->is_null()) {
      if (!it->is_number_integer() || it->get<int64_t>() < 2)
        throw invalid_file(sbert_file.string(), "max_seq_length must be an integer >= 2, got " + it->dump());
      st.max_seq_length = it->get<int64_t>();
    }
    st.do_lower_case = flag(cfg, "do_lower_case", sbert_file);
  }
  return st;
}

}  // namespace bertcpp::api
