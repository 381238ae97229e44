// What the one encoder needs to know about a checkpoint: the shared config.json fields plus the
// hyperparameters every family maps onto (its entry in model/families/ reads its own names).
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "io/config.h"
#include "ops/activation.h"

namespace bertcpp::model {

struct EncoderConfig : io::CommonConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t embedding_size = 0;  // word/position/type tables' width; 0 = hidden_size (ELECTRA differs)
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  ops::Activation hidden_act = ops::Activation::GeluErf;
  std::string hidden_act_name = "gelu";
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;  // 0 = the family has no token type embeddings
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;
  // RoBERTa-style positions: padding_idx + 1 + (index among the non-pad tokens), pad tokens at
  // padding_idx (transformers' create_position_ids_from_input_ids). Otherwise 0, 1, 2, ...
  bool positions_from_padding = false;
  int64_t relative_attention_num_buckets = 0;  // MPNet's shared relative position bias; 0 = none
  std::string position_embedding_type = "absolute";

  // Rotary post-norm families (NomicBERT, GTE): Q and K rotated by position instead of a position table.
  int64_t rotary_dim = 0;  // rotated columns of each head vector; 0 = absolute position embeddings
  double rotary_theta = 10000.0;
  bool rotary_interleaved = false;
  double rotary_ntk_factor = 0;          // NomicBERT's dynamic NTK (rotary_scaling_factor); 0 = none
  int64_t rotary_trained_positions = 0;  // the NTK scaling starts past this padded length
  // GTE-v1.5's (model_type "new") fixed NTK, rope_scaling {"type": "ntk", ...}: frequencies from
  // ops::ntk_frequencies at every position; 0 = none. mixed_b: its "mixed_b", when given.
  double rotary_fixed_ntk_factor = 0;
  std::optional<double> rotary_ntk_mixed_b;
  bool qkv_fused = false;  // QKV stored as one [3·hidden, hidden] weight (slot attention.self.qkv)
  bool glu = false;        // gated MLP: act(gate) · up, gate in slot intermediate.gate, up in intermediate.dense
  bool glu_fused_up_gate = false;  // ... or both in one stored [2I, hidden] weight [up | gate] (slot intermediate.up_gate)
  bool glu_fused_gate_up = false;  // ... or [gate | up], ops::glu's own order (slot intermediate.gate_up: JinaBERT)
  bool alibi = false;  // JinaBERT: ALiBi (ops/alibi.h) on the attention scores instead of a position table
  bool attn_linear_bias = true, mlp_in_bias = true, mlp_out_bias = true, mlm_bias = true;
  bool layer_rms_norm = false;  // GTE-v1.5's layer_norm_type "rms_norm": each layer's two norms are RMSNorm (weight only)
  // GTE-v1.5's logn_attention_scale (without logn_attention_clip1): each text's queries (after rotary) times
  // log(its length) / log(max_position_embeddings), in float32.
  bool logn_attention_scale = false;

  // Pre-norm rotary encoders (ModernBERT, model/modernbert.h); the encoder ignores them.
  double global_rope_theta = 160000.0, local_rope_theta = 10000.0;
  int64_t local_attention = 128;     // a local layer's row i sees keys |i - j| <= local_attention / 2
  std::vector<bool> layer_is_local;  // per layer (config layer_types, or global_attn_every_n_layers)
  bool norm_bias = false, attention_bias = false, mlp_bias = false, classifier_bias = false, decoder_bias = true;
  ops::Activation classifier_activation = ops::Activation::GeluErf;
  std::string classifier_pooling = "cls";  // sequence classification: "cls" (first token) or "mean"

  bool has_position_table() const { return rotary_dim == 0 && !alibi; }
  int64_t head_dim() const { return hidden_size / num_attention_heads; }
  int64_t embedding_width() const { return embedding_size > 0 ? embedding_size : hidden_size; }
  // The first position id of a sequence, and so the longest sequence the position table allows.
  int64_t position_offset() const { return positions_from_padding ? pad_token_id + 1 : 0; }
  int64_t max_sequence_length() const { return max_position_embeddings - position_offset(); }
};

// ops activation for a transformers ACT2FN name ("gelu", "gelu_new", "relu", ...); Unsupported
// naming the file and the value otherwise.
ops::Activation parse_activation(const std::string& name, const std::string& source);

// Parses config.json with the family its model_type names (see model/family.h); Unsupported
// naming the model_type and the supported ones when no family has it.
EncoderConfig parse_config(const std::string& json_text, const std::string& source_name);
EncoderConfig load_config(const std::filesystem::path& config_json);

}  // namespace bertcpp::model

namespace bertcpp::model {
// The sizes BertConfig-shaped configs share under these names: vocab_size, hidden_size,
// num_hidden_layers, num_attention_heads, intermediate_size, max_position_embeddings, pad_token_id.
void read_bert_style_sizes(const io::ConfigReader& r, EncoderConfig& c);
// read_bert_style_sizes, then type_vocab_size, layer_norm_eps, hidden_act and
// position_embedding_type, which must be `position_type` (JinaBERT: "alibi").
void read_bert_style_fields(const io::ConfigReader& r, EncoderConfig& c, const std::string& position_type);
// read_bert_style_fields with "absolute" positions: BERT, RoBERTa, ELECTRA, MPNet read them.
void read_bert_style_config(const io::ConfigReader& r, EncoderConfig& c);
}  // namespace bertcpp::model
