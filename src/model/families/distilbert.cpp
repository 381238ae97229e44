// DistilBERT (modeling_distilbert): BERT's post-norm layers under other names, no token types, no
// pooler, LayerNorm eps fixed at 1e-12; heads pre_classifier + ReLU + classifier, vocab_* MLM.
#include "model/family.h"

namespace bertcpp::model::families {

namespace {
void read_distilbert_config(const io::ConfigReader& r, EncoderConfig& c) {
  const int64_t kMax = io::kMaxConfigDim;
  c.type_vocab_size = 0;
  c.num_hidden_layers = 6;
  r.int_field("vocab_size", c.vocab_size, 1, kMax);
  r.int_field("dim", c.hidden_size, 1, kMax);
  r.int_field("n_layers", c.num_hidden_layers, 1, 4096);
  r.int_field("n_heads", c.num_attention_heads, 1, kMax);
  r.int_field("hidden_dim", c.intermediate_size, 1, kMax);
  r.int_field("max_position_embeddings", c.max_position_embeddings, 1, kMax);
  r.int_field("pad_token_id", c.pad_token_id, -kMax, kMax, /*null_keeps_default=*/true);
  r.string_field("activation", c.hidden_act_name);
  c.hidden_act = parse_activation(c.hidden_act_name, r.source());
  c.layer_norm_eps = 1e-12;
}
}  // namespace

extern const Family distilbert{
    .name = "distilbert",
    .model_types = {"distilbert"},
    .prefix = "distilbert",
    .read_config = read_distilbert_config,
    .weight_names = concat({{"encoder.layer.{i}.attention.self.query", "transformer.layer.{i}.attention.q_lin"},
                            {"encoder.layer.{i}.attention.self.key", "transformer.layer.{i}.attention.k_lin"},
                            {"encoder.layer.{i}.attention.self.value", "transformer.layer.{i}.attention.v_lin"},
                            {"encoder.layer.{i}.attention.output.dense", "transformer.layer.{i}.attention.out_lin"},
                            {"encoder.layer.{i}.attention.output.LayerNorm", "transformer.layer.{i}.sa_layer_norm"},
                            {"encoder.layer.{i}.intermediate.dense", "transformer.layer.{i}.ffn.lin1"},
                            {"encoder.layer.{i}.output.dense", "transformer.layer.{i}.ffn.lin2"},
                            {"encoder.layer.{i}.output.LayerNorm", "transformer.layer.{i}.output_layer_norm"},
                            {"head.classifier.dense", "pre_classifier"},
                            {"head.classifier.out", "classifier"},
                            {"head.mlm.dense", "vocab_transform"},
                            {"head.mlm.layer_norm", "vocab_layer_norm"},
                            {"head.mlm.decoder", "vocab_projector"},
                            {"head.mlm.bias", "vocab_projector.bias"}},
                           token_and_qa_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Relu,
    .mlm_act_is_hidden_act = true,
};

}  // namespace bertcpp::model::families
