// NomicBERT (nomic-embed-text v1/v1.5; the remote code modeling_hf_nomic_bert.py of nomic-ai/contrastors):
// BERT's post-norm graph with rotary Q/K instead of a position table (NTK-scaled past
// max_trained_positions when rotary_scaling_factor is set), a fused Wqkv, a gated MLP (fc12 activated,
// times fc11) and optional biases. Its config is a GPT2Config (n_embd, n_head, n_layer, n_inner, n_positions).
#include <cmath>

#include "bertcpp/error.h"
#include "model/family.h"

namespace bertcpp::model::families {

namespace {

using Json = nlohmann::json;

// A boolean switch whose `unsupported` value the graph does not implement.
void refuse(const io::ConfigReader& r, const char* field, bool unsupported_value, const char* why) {
  bool v = !unsupported_value;
  r.bool_field(field, v);
  if (v == unsupported_value)
    throw unsupported(r.source() + ": " + field + " " + (v ? "true" : "false") + " is not supported (" + why + ")");
}

void read_nomic_config(const io::ConfigReader& r, EncoderConfig& c) {
  const int64_t kMax = io::kMaxConfigDim;
  // GPT2Config's defaults, then NomicBertConfig's.
  c.vocab_size = 50257;
  c.max_position_embeddings = 1024;
  c.layer_norm_eps = 1e-5;
  c.type_vocab_size = 2;
  r.int_field("vocab_size", c.vocab_size, 1, kMax);
  r.int_field("n_embd", c.hidden_size, 1, kMax);
  r.int_field("n_layer", c.num_hidden_layers, 1, 4096);
  r.int_field("n_head", c.num_attention_heads, 1, kMax);
  r.int_field("n_positions", c.max_position_embeddings, 1, kMax);
  r.int_field("type_vocab_size", c.type_vocab_size, 0, kMax);
  r.int_field("pad_token_id", c.pad_token_id, -kMax, kMax, /*null_keeps_default=*/true);
  r.float_field("layer_norm_epsilon", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);
  int64_t multiple = 1;  // NomicBertModel rounds the vocabulary up to a multiple of pad_vocab_size_multiple
  r.int_field("pad_vocab_size_multiple", multiple, 1, kMax);
  c.vocab_size = (c.vocab_size + multiple - 1) / multiple * multiple;

  std::string act = "gelu_new";
  r.string_field("activation_function", act);
  if (act == "swiglu") c.hidden_act = ops::Activation::Silu;
  else if (act == "geglu") c.hidden_act = ops::Activation::GeluErf;
  else
    throw unsupported(r.source() + ": activation_function \"" + act + "\" is not supported (swiglu, geglu)");
  c.hidden_act_name = act;
  c.glu = true;
  // The gated MLP's width: n_inner (default 8·n_embd/3), rounded up to a multiple of 256.
  int64_t inner = c.hidden_size * 8 / 3;
  r.int_field("n_inner", inner, 1, kMax, /*null_keeps_default=*/true);
  c.intermediate_size = (inner + 255) / 256 * 256;

  r.bool_field("qkv_proj_bias", c.attn_linear_bias);
  r.bool_field("mlp_fc1_bias", c.mlp_in_bias);
  r.bool_field("mlp_fc2_bias", c.mlp_out_bias);
  c.mlm_bias = c.mlp_in_bias;  // the prediction head's dense and decoder take mlp_fc1_bias
  c.qkv_fused = true;

  refuse(r, "prenorm", true, "only post-norm layers");
  refuse(r, "parallel_block", true, "only sequential attention and MLP");
  refuse(r, "use_rms_norm", true, "only LayerNorm");
  refuse(r, "causal", true, "only bidirectional attention");
  refuse(r, "norm_mlp", true, "no norm inside the MLP");
  refuse(r, "rotary_head_dim", true, "rotary over the sequence dimension only");
  if (const Json* kv = r.field("num_heads_kv"); kv && !kv->is_null() && *kv != c.num_attention_heads)
    throw unsupported(r.source() + ": num_heads_kv " + kv->dump() + " is not supported (only n_head)");
  if (const Json* sb = r.field("rotary_emb_scale_base"); sb && !sb->is_null())
    throw unsupported(r.source() + ": rotary_emb_scale_base " + sb->dump() + " is not supported (only null)");

  if (c.hidden_size % c.num_attention_heads != 0) return;  // parse_config names it
  double fraction = 0;
  r.float_field("rotary_emb_fraction", fraction, 0, 1);
  const double rd = static_cast<double>(c.head_dim()) * fraction;
  if (!(rd > 0))
    throw unsupported(r.source() + ": rotary_emb_fraction 0 (absolute positions) is not supported (only rotary)");
  if (rd != std::floor(rd) || static_cast<int64_t>(rd) % 2 != 0)
    throw invalid_file(r.source(), "rotary_emb_fraction " + std::to_string(fraction) + " of head dim " +
                                       std::to_string(c.head_dim()) + " is not an even number of columns");
  c.rotary_dim = static_cast<int64_t>(rd);
  r.float_field("rotary_emb_base", c.rotary_theta, 0, 1e12, /*lo_exclusive=*/true);
  r.bool_field("rotary_emb_interleaved", c.rotary_interleaved);
  if (const Json* f = r.field("rotary_scaling_factor"); f && !f->is_null()) {
    r.float_field("rotary_scaling_factor", c.rotary_ntk_factor, 0, 1e6, /*lo_exclusive=*/true);
    c.rotary_trained_positions = 2048;
    r.int_field("max_trained_positions", c.rotary_trained_positions, 1, kMax);
    if (c.rotary_dim <= 2)
      throw invalid_file(r.source(), "rotary_scaling_factor needs a rotary width above 2, got " + std::to_string(c.rotary_dim));
  }
}

}  // namespace

extern const Family nomic_bert{
    .name = "nomic_bert",
    .model_types = {"nomic_bert"},
    .prefix = "bert",  // the heads' classes; NomicBertModel's own files have no prefix
    .read_config = read_nomic_config,
    .weight_names = {{"embeddings.LayerNorm", "emb_ln"},
                     {"encoder.layer.{i}.attention.self.qkv", "encoder.layers.{i}.attn.Wqkv"},
                     {"encoder.layer.{i}.attention.output.dense", "encoder.layers.{i}.attn.out_proj"},
                     {"encoder.layer.{i}.attention.output.LayerNorm", "encoder.layers.{i}.norm1"},
                     {"encoder.layer.{i}.intermediate.dense", "encoder.layers.{i}.mlp.fc11"},
                     {"encoder.layer.{i}.intermediate.gate", "encoder.layers.{i}.mlp.fc12"},
                     {"encoder.layer.{i}.output.dense", "encoder.layers.{i}.mlp.fc2"},
                     {"encoder.layer.{i}.output.LayerNorm", "encoder.layers.{i}.norm2"},
                     {"head.classifier.dense", "pooler.dense"},
                     {"head.classifier.out", "classifier"},
                     {"head.mlm.dense", "cls.predictions.transform.dense"},
                     {"head.mlm.layer_norm", "cls.predictions.transform.layer_norm"},
                     {"head.mlm.decoder", "cls.predictions.decoder"},
                     {"head.mlm.bias", "cls.predictions.decoder.bias"}},
    .heads = {{"ForPreTraining", HeadKind::MaskedLM},  // NomicBertForPreTraining: the MLM head only
              {"ForSequenceClassification", HeadKind::SequenceClassification}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = true,            // silu for swiglu, GELU (erf) for geglu
};

}  // namespace bertcpp::model::families
