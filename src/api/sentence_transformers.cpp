#include "api/sentence_transformers.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "io/checkpoint.h"
#include "io/json_util.h"
#include "ops/softmax.h"

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

int64_t positive_int(const json& cfg, const char* key, const fs::path& file) {
  auto it = cfg.find(key);
  if (it == cfg.end() || !it->is_number_integer() || it->get<int64_t>() < 1 || it->get<int64_t>() > (int64_t{1} << 20))
    throw invalid_file(file.string(), std::string("field '") + key + "' must be an integer from 1 to 1048576" +
                                          (it == cfg.end() ? ", it is missing" : ", got " + it->dump()));
  return it->get<int64_t>();
}

// sentence-transformers stores the activation's fullname; torch.nn names only (no code is imported).
DenseActivation parse_activation(const json& cfg, const fs::path& file) {
  auto it = cfg.find("activation_function");
  if (it == cfg.end() || it->is_null()) return DenseActivation::Tanh;  // Dense's default
  if (!it->is_string()) throw invalid_file(file.string(), "field 'activation_function' must be a string");
  const std::string name = it->get<std::string>();
  const std::string short_name = name.substr(name.rfind('.') == std::string::npos ? 0 : name.rfind('.') + 1);
  const std::pair<const char*, DenseActivation> known[] = {
      {"Identity", DenseActivation::Identity}, {"Tanh", DenseActivation::Tanh}, {"ReLU", DenseActivation::ReLU},
      {"Sigmoid", DenseActivation::Sigmoid},   {"GELU", DenseActivation::GELU}, {"SiLU", DenseActivation::SiLU}};
  if (name.rfind("torch.", 0) == 0)
    for (const auto& [n, a] : known)
      if (short_name == n) return a;
  throw invalid_file(file.string(), "activation_function '" + name +
                                        "' is not supported (supported: torch.nn Identity, Tanh, ReLU, Sigmoid, GELU, SiLU)");
}

ops::Activation linear_activation(DenseActivation a) {
  switch (a) {
    case DenseActivation::Tanh: return ops::Activation::Tanh;
    case DenseActivation::ReLU: return ops::Activation::Relu;
    case DenseActivation::GELU: return ops::Activation::GeluErf;  // torch.nn.GELU's default, the exact erf
    case DenseActivation::SiLU: return ops::Activation::Silu;
    case DenseActivation::Identity:
    case DenseActivation::Sigmoid: break;
  }
  return ops::Activation::Identity;
}

DenseModule load_dense(const fs::path& d) {
  const fs::path cfg_file = d / "config.json";
  std::error_code ec;
  if (!fs::is_regular_file(cfg_file, ec)) throw not_found(cfg_file.string() + ": Dense module config is missing");
  const json cfg = read_json(cfg_file);
  if (!cfg.is_object()) throw invalid_file(cfg_file.string(), "expected a JSON object");
  DenseModule m;
  m.dir = d.string();
  m.in_features = positive_int(cfg, "in_features", cfg_file);
  m.out_features = positive_int(cfg, "out_features", cfg_file);
  m.activation = parse_activation(cfg, cfg_file);
  if (flag(cfg, "use_residual", cfg_file)) throw unsupported(cfg_file.string() + ": use_residual is not supported");
  for (const char* key : {"module_input_name", "module_output_name"})
    if (auto it = cfg.find(key); it != cfg.end() && !it->is_null() && *it != "sentence_embedding")
      throw unsupported(cfg_file.string() + ": " + key + " " + it->dump() + " is not supported (only sentence_embedding)");
  const bool bias = !cfg.contains("bias") || cfg["bias"].is_null() || flag(cfg, "bias", cfg_file);
  const io::Checkpoint ck = io::Checkpoint::open(d);
  auto read = [&](const char* name, const Shape& shape) {
    if (!ck.contains(name))
      throw invalid_file(d.string(), std::string("the Dense module's weights (") + ck.format() + ") have no tensor " + name);
    const io::TensorInfo& info = ck.info(name);
    if (info.shape != shape)
      throw invalid_file((d / info.file).string(), std::string("tensor ") + name + " has shape " + shape_to_string(info.shape) +
                                                       ", config.json says " + shape_to_string(shape));
    return ck.get_f32(name);
  };
  const Tensor weight = read("linear.weight", {m.out_features, m.in_features});
  const Tensor b = bias ? read("linear.bias", {m.out_features}) : Tensor();
  m.linear = ops::Linear(weight, b, linear_activation(m.activation));
  return m;
}

}  // namespace

std::vector<float> apply_dense(const DenseModule& d, const float* x, size_t n) {
  std::vector<float> y(n * static_cast<size_t>(d.out_features));
  if (n == 0) return y;
  d.linear.forward(x, static_cast<int64_t>(n), y.data());
  if (d.activation == DenseActivation::Sigmoid)
    for (float& v : y) v = static_cast<float>(ops::sigmoid(v));
  return y;
}

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
  bool pooled = false;
  std::optional<int64_t> dense_dim;  // out_features of the last Dense module
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
      if (auto it = cfg.find("pooling_mode"); it != cfg.end() && !it->is_null()) {
        // sentence-transformers 6 writes one key instead: a mode name or a list of them.
        chosen.clear();
        const json names = it->is_array() ? *it : json::array({*it});
        for (const auto& n : names) {
          if (!n.is_string()) throw invalid_file(cfg_file.string(), "field 'pooling_mode' must be a string or a list of strings");
          const std::string v = n.get<std::string>();
          if (v == "mean_sqrt_len_tokens") chosen.push_back(Pooling::MeanSqrtLen);
          else if (v == "cls" || v == "mean" || v == "max" || v == "weightedmean" || v == "lasttoken") chosen.push_back(parse_pooling(v));
          else throw invalid_file(cfg_file.string(), "field 'pooling_mode' has unknown mode '" + v +
                                                         "' (expected cls, mean, max, mean_sqrt_len_tokens, weightedmean or lasttoken)");
        }
      }
      if (cfg.contains("include_prompt") && !cfg["include_prompt"].is_null()) st.include_prompt = flag(cfg, "include_prompt", cfg_file);
      pooled = true;
      if (chosen.size() > 1) {
        unsupported.push_back(cfg_file.string() + " concatenates several pooling modes");
      } else if (chosen.size() == 1) {
        st.pooling = chosen.front();
      }
    } else if (short_type == "Normalize") {
      st.normalize = true;
      st.after_pooling.push_back({});
    } else if (short_type == "Dense") {
      const fs::path d = module_dir(dir, path, modules_file);
      if (!pooled) {
        unsupported.push_back("Dense module " + d.string() + " before Pooling (it runs on sentence embeddings)");
        continue;
      }
      DenseModule dense = load_dense(d);
      const int64_t in = dense_dim.value_or(-1);
      if (in >= 0 && in != dense.in_features)
        throw invalid_file((d / "config.json").string(), "in_features " + std::to_string(dense.in_features) +
                                                             " does not match the " + std::to_string(in) +
                                                             " features of the module before it");
      dense_dim = dense.out_features;
      st.after_pooling.push_back({std::move(dense)});
    } else {
      unsupported.push_back("module " + type + " (" + modules_file.string() + ")");
    }
  }
  if (!unsupported.empty()) {
    st.unsupported = "sentence-transformers pipeline not supported by embed(): ";
    for (size_t i = 0; i < unsupported.size(); ++i) st.unsupported += (i ? "; " : "") + unsupported[i];
  }
  const fs::path st_file = dir / "config_sentence_transformers.json";
  if (fs::is_regular_file(st_file, ec)) {
    const json cfg = read_json(st_file);
    if (!cfg.is_object()) throw invalid_file(st_file.string(), "expected a JSON object");
    if (auto it = cfg.find("prompts"); it != cfg.end() && !it->is_null()) {
      if (!it->is_object()) throw invalid_file(st_file.string(), "field 'prompts' must be an object of name: text");
      for (const auto& [name, text] : it->items()) {
        if (!text.is_string()) throw invalid_file(st_file.string(), "prompt '" + name + "' must be a string");
        st.prompts[name] = text.get<std::string>();
      }
    }
    if (auto it = cfg.find("default_prompt_name"); it != cfg.end() && !it->is_null()) {
      if (!it->is_string()) throw invalid_file(st_file.string(), "field 'default_prompt_name' must be a string");
      const std::string name = it->get<std::string>();
      // sentence-transformers refuses a default that names no prompt.
      if (!st.prompts.count(name))
        throw invalid_file(st_file.string(), "default_prompt_name '" + name + "' is not one of its prompts");
      st.default_prompt_name = name;
    }
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
