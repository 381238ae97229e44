// The one encoder every family runs on: transformers' BertModel graph (embeddings → N post-norm
// layers → pooler) with the switches families need (positions from padding_idx, no token types,
// an embedding projection, a relative position bias, rotary Q/K instead of a position table, a
// fused QKV, a gated MLP, optional biases) and the task heads. Reading encoder.cpp top
// to bottom is reading modeling_bert.py's forward.
#pragma once
#include <filesystem>
#include <memory>

#include "model/network.h"

namespace bertcpp::model {

class Encoder final : public Network {
 public:
  // The weights of a LOCAL model folder whose config.json parsed to `config`; the family comes
  // from its model_type and the head from its architectures.
  static std::unique_ptr<Encoder> load(const std::filesystem::path& dir, const EncoderConfig& config,
                                       const Options& options);
  // Reads the folder's config.json, then as above.
  static std::unique_ptr<Encoder> load(const std::filesystem::path& dir, const Options& options);

  const EncoderConfig& config() const override;
  const Family& family() const override;
  HeadKind head() const override;
  // Empty when the head's weights loaded; else why the head cannot run (forward with
  // Request::head throws it).
  const std::string& head_missing() const override;
  bool has_pooler() const override;
  Output forward(const Input& input, const Request& request) const override;

  ~Encoder() override;
  struct Impl;

 private:
  Encoder() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bertcpp::model
