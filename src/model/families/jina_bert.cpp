// JinaBERT v2 (jinaai/jina-bert-implementation's remote code, JinaBertModel): BERT's post-norm graph and
// heads with ALiBi on the attention scores instead of a position table, and a gated MLP
// (mlp.gated_layers = [gate | up], no bias; act(gate)·up; mlp.wo; mlp.layernorm). Its config.json keeps
// model_type "bert", so parse_config picks this family by position_embedding_type "alibi".
#include "bertcpp/error.h"
#include "model/family.h"

namespace bertcpp::model::families {

namespace {

void read_jina_bert_config(const io::ConfigReader& r, EncoderConfig& c) {
  read_bert_style_fields(r, c, "alibi");
  c.alibi = true;
  std::string ff = "original";
  r.string_field("feed_forward_type", ff);
  // JinaBertGLUMLP's act is nn.GELU() / nn.ReLU() whatever hidden_act says; the encoder and the MLM
  // head share one activation, so a config where they differ is refused rather than half-honoured.
  const ops::Activation glu_act = ff == "geglu" ? ops::Activation::GeluErf : ops::Activation::Relu;
  if (ff != "geglu" && ff != "reglu")
    throw unsupported(r.source() + ": feed_forward_type \"" + ff + "\" is not supported (only \"geglu\", \"reglu\")");
  if (glu_act != c.hidden_act)
    throw unsupported(r.source() + ": feed_forward_type \"" + ff + "\" with hidden_act \"" + c.hidden_act_name +
                      "\" is not supported (the MLP's and the MLM head's activations must agree)");
  c.glu = true;
  c.glu_fused_gate_up = true;
  c.mlp_in_bias = false;
  // jina-embeddings-v2-base-code's remote code (jinaai/jina-bert-v2-qk-post-norm) adds LayerNorms on Q and K
  // that this graph lacks: loading it would silently drop them, so it is refused (no runnable reference found).
  for (const char* key : {"auto_map", "_name_or_path"})
    if (const auto* v = r.field(key); v && v->dump().find("jina-bert-v2-qk-post-norm") != std::string::npos)
      throw unsupported(r.source() + ": " + key + " names jinaai/jina-bert-v2-qk-post-norm, JinaBERT's QK-LayerNorm "
                        "variant (jina-embeddings-v2-base-code), which is not supported");
  double scaling = 1;
  if (const auto* v = r.field("alibi_scaling"); v && !v->is_null()) r.float_field("alibi_scaling", scaling, 0, 1e6, /*lo_exclusive=*/true);
  if (scaling != 1)
    throw unsupported(r.source() + ": alibi_scaling " + std::to_string(scaling) + " is not supported (only 1)");
}

}  // namespace

extern const Family jina_bert{
    .name = "jina_bert",
    .model_types = {"jina_bert"},
    .prefix = "bert",
    .read_config = read_jina_bert_config,
    .weight_names = concat({{"encoder.layer.{i}.intermediate.gate_up", "encoder.layer.{i}.mlp.gated_layers"},
                            {"encoder.layer.{i}.output.dense", "encoder.layer.{i}.mlp.wo"},
                            {"encoder.layer.{i}.output.LayerNorm", "encoder.layer.{i}.mlp.layernorm"}},
                           bert_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = true,
};

}  // namespace bertcpp::model::families
