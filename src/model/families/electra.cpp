// ELECTRA (modeling_electra): BERT's encoder behind embeddings of embedding_size, projected to
// hidden_size when they differ; no pooler; the discriminator head (ElectraForPreTraining), a
// GELU classifier head on the first token, and the generator's masked-LM head.
#include "model/family.h"

namespace bertcpp::model::families {

namespace {
void read_electra_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.hidden_size = 256;
  c.num_attention_heads = 4;
  c.intermediate_size = 1024;
  c.embedding_size = 128;
  read_bert_style_config(r, c);
  r.int_field("embedding_size", c.embedding_size, 1, io::kMaxConfigDim);
}
}  // namespace

extern const Family electra{
    .name = "electra",
    .model_types = {"electra"},
    .prefix = "electra",
    .read_config = read_electra_config,
    .weight_names = concat({{"head.classifier.dense", "classifier.dense"},
                            {"head.classifier.out", "classifier.out_proj"},
                            {"head.mlm.dense", "generator_predictions.dense"},
                            {"head.mlm.layer_norm", "generator_predictions.LayerNorm"},
                            {"head.mlm.decoder", "generator_lm_head"},
                            {"head.mlm.bias", "generator_lm_head.bias"},
                            {"head.discriminator.dense", "discriminator_predictions.dense"},
                            {"head.discriminator.out", "discriminator_predictions.dense_prediction"}},
                           token_and_qa_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForPreTraining", HeadKind::Discriminator},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::GeluErf,
    .mlm_act_is_hidden_act = false,
};

}  // namespace bertcpp::model::families
