// GTE (transformers' modeling_gte: gte-multilingual-base and the GTE-v1.5 line as transformers ports them):
// BERT's post-norm graph with rotary Q/K instead of a position table, a fused qkv_proj, a gated MLP
// (up_gate_proj = [up | gate], act(gate)·up, no bias; down_proj with bias), optional token types, and
// RoBERTa-style heads (lm_head with GELU; pooler + classifier). Names as transformers' save_pretrained
// writes them (its conversion mapping back to the remote code's: attention.qkv_proj, attn_ln, mlp_ln, ...).
#include "bertcpp/error.h"
#include "model/family.h"

namespace bertcpp::model::families {

namespace {

using Json = nlohmann::json;

void read_gte_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.vocab_size = 250048;
  c.max_position_embeddings = 8192;
  c.type_vocab_size = 1;
  c.pad_token_id = 1;
  read_bert_style_sizes(r, c);
  r.int_field("type_vocab_size", c.type_vocab_size, 0, io::kMaxConfigDim);  // 0: gte-base-en-v1.5 has none
  r.float_field("layer_norm_eps", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);
  r.string_field("hidden_act", c.hidden_act_name);
  c.hidden_act = parse_activation(c.hidden_act_name, r.source());
  c.glu = true;
  c.glu_fused_up_gate = true;
  c.mlp_in_bias = false;
  c.qkv_fused = true;
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
  if (c.hidden_size % c.num_attention_heads != 0) return;  // parse_config names it
  c.rotary_dim = c.head_dim();
  if (c.rotary_dim % 2 != 0)
    throw invalid_file(r.source(), "head dim " + std::to_string(c.rotary_dim) + " must be even for rotary embeddings");
}

}  // namespace

extern const Family gte{
    .name = "gte",
    .model_types = {"gte"},
    .prefix = "gte",
    .read_config = read_gte_config,
    .weight_names = {{"encoder.layer.{i}.attention.self.qkv", "encoder.layer.{i}.attention.qkv_proj"},
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
                     {"head.token", "classifier"}},
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = false,           // lm_head: GELU (erf)
};

}  // namespace bertcpp::model::families
