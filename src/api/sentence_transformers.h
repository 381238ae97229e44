// A sentence-transformers model folder: modules.json (Transformer → Pooling → Dense/Normalize ...),
// <pooling path>/config.json, the Dense modules' config + weights, sentence_bert_config.json and
// config_sentence_transformers.json (prompts) decide what embed() computes.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"
#include "ops/linear.h"

namespace bertcpp::api {

// torch.nn activations a Dense module names (its fullname, e.g. torch.nn.modules.activation.Tanh).
enum class DenseActivation { Identity, Tanh, ReLU, Sigmoid, GELU, SiLU };

// One sentence-transformers Dense module: y = activation(x Wᵀ + b), W [out, in] row-major.
struct DenseModule {
  std::string dir;  // the module folder (for messages)
  int64_t in_features = 0, out_features = 0;
  DenseActivation activation = DenseActivation::Tanh;
  ops::Linear linear;  // the f32 GEMM, with the activation when ops has it (Sigmoid runs after it)
};

// What runs after pooling, in modules.json order: a Dense module, or Normalize (dense == nullopt).
struct PostPoolingStep {
  std::optional<DenseModule> dense;
};

struct SentenceTransformersConfig {
  bool present = false;                    // modules.json exists
  std::filesystem::path transformer_dir;   // where the Transformer module lives (usually the root)
  std::optional<Pooling> pooling;          // from the Pooling module's config.json
  bool include_prompt = true;              // Pooling config: false = prompt tokens are not pooled
  bool normalize = false;                  // a Normalize module is listed
  std::vector<PostPoolingStep> after_pooling;  // Dense and Normalize modules after Pooling, in order
  std::optional<int64_t> max_seq_length;   // sentence_bert_config.json
  bool do_lower_case = false;              // sentence_bert_config.json: lowercase texts first
  std::map<std::string, std::string> prompts;    // config_sentence_transformers.json
  std::optional<std::string> default_prompt_name;  // ditto (a key of prompts)
  // Non-empty when the pipeline has something embed() cannot reproduce (several pooling modes,
  // a module it does not know, ...): embed() then throws Unsupported with this.
  std::string unsupported;
};

// Reads the sentence-transformers files of `dir`; present = false when there is no modules.json.
// Malformed files (a Dense module's wrong shapes or unknown activation included) throw InvalidFile
// naming the file and field.
SentenceTransformersConfig load_sentence_transformers_config(const std::filesystem::path& dir);

// Applies one Dense module to rows [n, in_features] → [n, out_features] (float32, as torch's Linear).
std::vector<float> apply_dense(const DenseModule& d, const float* x, size_t n);

}  // namespace bertcpp::api
