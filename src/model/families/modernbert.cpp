// ModernBERT (modeling_modernbert): pre-norm layers with rotary positions, packed Wqkv, GeGLU,
// local (sliding-window) attention on all but every n-th layer, a final norm; its own graph
// (model/modernbert.h). Config as transformers 5 writes it (layer_types, rope_parameters) or as
// hub checkpoints have it (global_attn_every_n_layers, global_rope_theta, local_rope_theta).
#include "bertcpp/error.h"
#include "model/family.h"
#include "model/modernbert.h"

namespace bertcpp::model::families {

namespace {

using Json = nlohmann::json;

// rope_parameters[layer_type]: only the default rope (θ alone); scaled variants are not implemented.
void read_rope(const io::ConfigReader& r, const char* layer_type, double& theta) {
  const Json* rp = r.field("rope_parameters");
  if (!rp || rp->is_null()) return;
  if (!rp->is_object()) r.type_error("rope_parameters", *rp, "an object");
  auto it = rp->find(layer_type);
  if (it == rp->end() || it->is_null()) return;
  const std::string where = r.source() + " rope_parameters." + layer_type;
  if (!it->is_object()) throw invalid_file(where, "must be an object, got " + it->dump());
  const io::ConfigReader sub(*it, where);
  std::string type = "default";
  sub.string_field("rope_type", type);
  if (type != "default")
    throw unsupported(where + ": rope_type \"" + type + "\" is not supported (only \"default\")");
  sub.float_field("rope_theta", theta, 0, 1e12, /*lo_exclusive=*/true);
}

void read_modernbert_config(const io::ConfigReader& r, EncoderConfig& c) {
  const int64_t kMax = io::kMaxConfigDim;
  c.vocab_size = 50368;
  c.intermediate_size = 1152;
  c.num_hidden_layers = 22;
  c.max_position_embeddings = 8192;
  c.pad_token_id = 50283;
  c.type_vocab_size = 0;
  c.layer_norm_eps = 1e-5;
  read_bert_style_sizes(r, c);  // its own names for the norm eps and the activation
  r.float_field("norm_eps", c.layer_norm_eps, 0, 1, /*lo_exclusive=*/true);
  r.string_field("hidden_activation", c.hidden_act_name);
  c.hidden_act = parse_activation(c.hidden_act_name, r.source());
  std::string cls_act = "gelu";
  r.string_field("classifier_activation", cls_act);
  c.classifier_activation = parse_activation(cls_act, r.source());
  r.string_field("classifier_pooling", c.classifier_pooling);
  if (c.classifier_pooling != "cls" && c.classifier_pooling != "mean")
    throw unsupported(r.source() + ": classifier_pooling \"" + c.classifier_pooling + "\" is not supported (cls, mean)");
  r.bool_field("norm_bias", c.norm_bias);
  r.bool_field("attention_bias", c.attention_bias);
  r.bool_field("mlp_bias", c.mlp_bias);
  r.bool_field("classifier_bias", c.classifier_bias);
  r.bool_field("decoder_bias", c.decoder_bias);
  r.int_field("local_attention", c.local_attention, 0, kMax);
  if (const Json* rs = r.field("rope_scaling"); rs && !rs->is_null())
    throw unsupported(r.source() + ": rope_scaling " + rs->dump() + " is not supported");
  r.float_field("global_rope_theta", c.global_rope_theta, 0, 1e12, /*lo_exclusive=*/true);
  r.float_field("local_rope_theta", c.local_rope_theta, 0, 1e12, /*lo_exclusive=*/true);
  read_rope(r, "full_attention", c.global_rope_theta);
  read_rope(r, "sliding_attention", c.local_rope_theta);

  const auto n = static_cast<size_t>(c.num_hidden_layers);
  c.layer_is_local.assign(n, false);
  const Json* lt = r.field("layer_types");
  if (lt && !lt->is_null()) {
    if (!lt->is_array() || lt->size() != n)
      throw invalid_file(r.source(), "field \"layer_types\" must be an array of num_hidden_layers (" +
                                         std::to_string(n) + ") strings, got " + lt->dump());
    for (size_t i = 0; i < n; ++i) {
      const Json& t = (*lt)[i];
      if (t == "sliding_attention") c.layer_is_local[i] = true;
      else if (t != "full_attention")
        throw unsupported(r.source() + ": layer_types[" + std::to_string(i) + "] = " + t.dump() +
                          " is not supported (full_attention, sliding_attention)");
    }
  } else {
    int64_t every = 3;
    r.int_field("global_attn_every_n_layers", every, 1, 4096);
    for (size_t i = 0; i < n; ++i) c.layer_is_local[i] = static_cast<int64_t>(i) % every != 0;
  }
  if (c.hidden_size % c.num_attention_heads == 0 && c.head_dim() % 2 != 0)
    throw invalid_file(r.source(), "head dim " + std::to_string(c.head_dim()) + " (hidden_size / num_attention_heads) must be even for rotary embeddings");
}

}  // namespace

extern const Family modernbert{
    .name = "modernbert",
    .model_types = {"modernbert"},
    .prefix = "model",
    .read_config = read_modernbert_config,
    .weight_names = {},
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::GeluErf,  // unused: config.classifier_activation
    .mlm_act_is_hidden_act = false,
    .load = load_modernbert,
};

}  // namespace bertcpp::model::families
