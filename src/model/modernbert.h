// ModernBERT's graph (transformers' modeling_modernbert.py): embeddings (tok_embeddings + norm,
// no positions), pre-norm layers (attn_norm — Identity on layer 0 —, packed Wqkv, rotary with the
// layer type's θ, global or sliding-window attention, Wo; mlp_norm, Wi → GeGLU → Wo), final_norm,
// and the heads (ModernBertPredictionHead: dense + act + norm, then the decoder or the classifier).
// Runs on the packed batch: each text's real tokens only, positions 0, 1, 2, ... within the text.
#pragma once
#include <filesystem>
#include <memory>

#include "model/network.h"

namespace bertcpp::model {

// Family::load of model/families/modernbert.cpp: the weights of a LOCAL folder whose config
// is `config`.
std::unique_ptr<Network> load_modernbert(const std::filesystem::path& dir, const EncoderConfig& config,
                                         const Family& family, const Options& options);

}  // namespace bertcpp::model
