// The BERT graph: transformers' BertModel (embeddings → N encoder layers → pooler) and its task
// heads, composed from ops/. Reading this file's .cpp top to bottom is reading the architecture.
#pragma once
#include <filesystem>
#include <memory>

#include "bertcpp/model.hpp"
#include "io/config.h"
#include "io/weights.h"

namespace bertcpp::model {

class Bert {
 public:
  // Reads config.json and the weights of a LOCAL model folder; the head comes from
  // config.architectures. Uses options.threads and options.compute.
  static std::unique_ptr<Bert> load(const std::filesystem::path& dir, const ModelOptions& options);

  const io::BertConfig& config() const;
  io::HeadKind head() const;
  // transformers' forward on a padded batch. Thread-safe (const; no shared mutable state).
  ModelOutput forward(const Batch& batch, const OutputRequest& request) const;

  ~Bert();
  struct Impl;

 private:
  Bert() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bertcpp::model
