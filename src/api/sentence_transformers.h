// A sentence-transformers model folder: modules.json (Transformer → Pooling → Normalize),
// <pooling path>/config.json and sentence_bert_config.json decide how embed() pools.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "bertcpp/model.hpp"

namespace bertcpp::api {

struct SentenceTransformersConfig {
  bool present = false;                    // modules.json exists
  std::filesystem::path transformer_dir;   // where the Transformer module lives (usually the root)
  std::optional<Pooling> pooling;          // from the Pooling module's config.json
  bool normalize = false;                  // a Normalize module is listed
  std::optional<int64_t> max_seq_length;   // sentence_bert_config.json
  bool do_lower_case = false;              // sentence_bert_config.json: lowercase texts first
  // Non-empty when the pipeline has something embed() cannot reproduce (a Dense module, a pooling
  // mode other than exactly one of cls/mean/max, ...): embed() then throws Unsupported with this.
  std::string unsupported;
};

// Reads the sentence-transformers files of `dir`; present = false when there is no modules.json.
// Malformed files throw InvalidFile naming the file and field.
SentenceTransformersConfig load_sentence_transformers_config(const std::filesystem::path& dir);

}  // namespace bertcpp::api
