// GTE, two config shapes with one graph and one weight table:
// - "gte", transformers' modeling_gte (gte-multilingual-base and the GTE-v1.5 line as transformers ports them);
// - "new", the hub checkpoints' own remote code (Alibaba-NLP/new-impl: gte-base/large-en-v1.5,
//   gte-multilingual-base), family gte_new: its NewConfig fields (rope_theta, rope_scaling "ntk",
//   position_embedding_type, layer_norm_type, pack_qkv, logn_attention_scale), lm_head's activation is
//   hidden_act, base_model_prefix "new", and a QA head.
// BERT's post-norm graph with rotary Q/K instead of a position table, a fused qkv_proj, a gated MLP
// (up_gate_proj = [up | gate], act(gate)·up, no bias; down_proj with bias), optional token types, and
// RoBERTa-style heads (lm_head; pooler + classifier). Names as the remote code stores them (and transformers'
// save_pretrained writes them back: attention.qkv_proj, attn_ln, mlp_ln, ...).
#include "bertcpp/error.h"
#include "model/family.h"

namespace bertcpp::model::families {

namespace {

using Json = nlohmann::json;

// Rotary over each whole head vector.
void rotary_over_heads(const io::ConfigReader& r, EncoderConfig& c) {
  if (c.hidden_size % c.num_attention_heads != 0) return;  // parse_config names it
  c.rotary_dim = c.head_dim();
  if (c.rotary_dim % 2 != 0)
    throw invalid_file(r.source(), "head dim " + std::to_string(c.rotary_dim) + " must be even for rotary embeddings");
}

// What both config shapes share: BERT's sizes, optional token types, and gte's graph (fused qkv, gated MLP).
void read_gte_graph(const io::ConfigReader& r, EncoderConfig& c) {
  read_bert_style_sizes(r, c);
  r.int_field("type_vocab_size", c.type_vocab_size, 0, io::kMaxConfigDim);  // 0: gte-base-en-v1.5 has none
  r.float_field("layer_norm_eps", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);
  r.string_field("hidden_act", c.hidden_act_name);
  c.hidden_act = parse_activation(c.hidden_act_name, r.source());
  c.glu = true;
  c.glu_fused_up_gate = true;
  c.mlp_in_bias = false;
  c.qkv_fused = true;
}

void read_gte_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.vocab_size = 250048;
  c.max_position_embeddings = 8192;
  c.type_vocab_size = 1;
  c.pad_token_id = 1;
  read_gte_graph(r, c);
  c.rotary_theta = 160000.0;  // GteConfig.default_theta
  if (const Json* rp = r.field("rope_parameters"); rp && !rp->is_null()) {
    if (!rp->is_object()) r.type_error("rope_parameters", *rp, "an object");
    const io::ConfigReader sub(*rp, r.source() + " rope_parameters");
    std::string type = "default";
    sub.string_field("rope_type", type);
    if (type != "default")
      throw unsupported(r.source() + ": rope_parameters.rope_type \"" + type + "\" is not supported (only \"default\")");
    sub.float_field("rope_theta", c.rotary_theta, 0, 1e12, /*lo_exclusive=*/true);
  }
  rotary_over_heads(r, c);
}

// NewConfig's defaults (new-impl configuration.py) and the fields its modeling.py reads; what it would run
// differently from this graph is refused, naming the field and value.
void read_new_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.vocab_size = 30528;
  c.max_position_embeddings = 2048;
  c.type_vocab_size = 1;
  read_gte_graph(r, c);
  r.bool_field("pack_qkv", c.qkv_fused);  // false: q_proj, k_proj, v_proj
  bool unpad = false, memory_efficient = false;  // xformers' paths: the same attention per text
  r.bool_field("unpad_inputs", unpad);
  r.bool_field("use_memory_efficient_attention", memory_efficient);
  std::string norm = "layer_norm";
  r.string_field("layer_norm_type", norm);
  if (norm != "layer_norm" && norm != "rms_norm")
    throw unsupported(r.source() + ": layer_norm_type \"" + norm + "\" is not supported (\"layer_norm\" or \"rms_norm\")");
  c.layer_rms_norm = norm == "rms_norm";
  // log(length) / log(max_position_embeddings) on the queries; clipped to >= 1 it is 1 for every input this
  // engine takes (at most max_position_embeddings tokens).
  bool logn = false, clip1 = false;
  r.bool_field("logn_attention_scale", logn);
  r.bool_field("logn_attention_clip1", clip1);
  c.logn_attention_scale = logn && !clip1;
  c.position_embedding_type = "rope";
  r.string_field("position_embedding_type", c.position_embedding_type);
  if (c.position_embedding_type == "absolute") return;  // BERT's position table
  if (c.position_embedding_type != "rope")
    throw unsupported(r.source() + ": position_embedding_type \"" + c.position_embedding_type +
                      "\" is not supported (\"rope\" or \"absolute\")");
  c.rotary_theta = 10000.0;
  r.float_field("rope_theta", c.rotary_theta, 0, 1e12, /*lo_exclusive=*/true);
  if (const Json* rs = r.field("rope_scaling"); rs && !rs->is_null()) {
    if (!rs->is_object()) r.type_error("rope_scaling", *rs, "an object");
    const io::ConfigReader sub(*rs, r.source() + " rope_scaling");
    std::string type;
    double factor = 0;
    if (!sub.field("type") || !sub.field("factor"))
      throw invalid_file(r.source(), "rope_scaling needs \"type\" and \"factor\" (as new-impl reads it)");
    sub.string_field("type", type);
    if (type != "ntk")
      throw unsupported(r.source() + ": rope_scaling.type \"" + type + "\" is not supported (only \"ntk\", as new-impl)");
    sub.float_field("factor", factor, 0, 1e6, /*lo_exclusive=*/true);
    if (const Json* b = sub.field("mixed_b"); b && !b->is_null()) {
      double mixed_b = 0;
      sub.float_field("mixed_b", mixed_b, -1e3, 1e3);
      c.rotary_ntk_mixed_b = mixed_b;
    }
    // new-impl rescales only a cache longer than max_position_embeddings: factor <= 1 leaves every position as is.
    if (factor > 1) c.rotary_fixed_ntk_factor = factor;
  }
  rotary_over_heads(r, c);
}

NameTable gte_weight_names() {
  return {{"encoder.layer.{i}.attention.self.qkv", "encoder.layer.{i}.attention.qkv_proj"},
          {"encoder.layer.{i}.attention.self.query", "encoder.layer.{i}.attention.q_proj"},
          {"encoder.layer.{i}.attention.self.key", "encoder.layer.{i}.attention.k_proj"},
          {"encoder.layer.{i}.attention.self.value", "encoder.layer.{i}.attention.v_proj"},
          {"encoder.layer.{i}.attention.output.dense", "encoder.layer.{i}.attention.o_proj"},
          {"encoder.layer.{i}.attention.output.LayerNorm", "encoder.layer.{i}.attn_ln"},
          {"encoder.layer.{i}.intermediate.up_gate", "encoder.layer.{i}.mlp.up_gate_proj"},
          {"encoder.layer.{i}.output.dense", "encoder.layer.{i}.mlp.down_proj"},
          {"encoder.layer.{i}.output.LayerNorm", "encoder.layer.{i}.mlp_ln"},
          {"head.classifier.dense", "pooler.dense"},
          {"head.classifier.out", "classifier"},
          {"head.mlm.dense", "lm_head.dense"},
          {"head.mlm.layer_norm", "lm_head.norm"},
          {"head.mlm.decoder", "lm_head.decoder"},
          {"head.mlm.bias", "lm_head.decoder.bias"},
          {"head.token", "classifier"},
          {"head.qa", "qa_outputs"}};
}

}  // namespace

extern const Family gte{
    .name = "gte",
    .model_types = {"gte"},
    .prefix = "gte",
    .read_config = read_gte_config,
    .weight_names = gte_weight_names(),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = false,           // lm_head: GELU (erf)
};

namespace {
// gte's table and heads; NewConfig's fields, the "new." prefix, a QA head and lm_head's activation differ.
Family new_impl(Family f) {
  f.name = "gte_new";
  f.model_types = {"new"};
  f.prefix = "new";
  f.read_config = read_new_config;
  f.heads.emplace_back("ForQuestionAnswering", HeadKind::QuestionAnswering);
  f.mlm_act_is_hidden_act = true;  // NewLMPredictionHead: ACT2FN[hidden_act]
  return f;
}
}  // namespace

extern const Family gte_new = new_impl(gte);  // after gte: one translation unit initializes in order

}  // namespace bertcpp::model::families
