// The one encoder every family runs on: transformers' BertModel graph (embeddings → N post-norm
// layers → pooler) with the switches families need (positions from padding_idx, no token types,
// an embedding projection, a relative position bias) and the task heads. Reading encoder.cpp top
// to bottom is reading modeling_bert.py's forward.
#pragma once
#include <filesystem>
#include <memory>

#include "model/config.h"
#include "model/family.h"
#include "model/types.h"

namespace bertcpp::model {

class Encoder {
 public:
  // Reads config.json and the weights of a LOCAL model folder; the family comes from
  // config.json's model_type and the head from config.architectures.
  static std::unique_ptr<Encoder> load(const std::filesystem::path& dir, const Options& options);

  const EncoderConfig& config() const;
  const Family& family() const;
  HeadKind head() const;
  // Empty when the head's weights loaded; else why the head cannot run (forward with
  // Request::head throws it).
  const std::string& head_missing() const;
  bool has_pooler() const;
  // transformers' forward on a padded batch. Thread-safe (const; no shared mutable state).
  Output forward(const Input& input, const Request& request) const;

  ~Encoder();
  struct Impl;

 private:
  Encoder() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bertcpp::model
