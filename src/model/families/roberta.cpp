// RoBERTa, XLM-RoBERTa, CamemBERT (modeling_roberta / _xlm_roberta / _camembert): BERT's graph
// with positions counted from padding_idx + 1 and one token type; heads on the first token
// (classifier.dense + tanh + out_proj, no pooler) and lm_head.
#include "model/family.h"

namespace bertcpp::model::families {

namespace {
void read_roberta_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.vocab_size = 50265;
  c.type_vocab_size = 1;
  c.pad_token_id = 1;
  read_bert_style_config(r, c);
  c.positions_from_padding = true;
}
}  // namespace

extern const Family roberta{
    .name = "roberta",
    .model_types = {"roberta", "xlm-roberta", "camembert"},
    .prefix = "roberta",
    .read_config = read_roberta_config,
    .weight_names = roberta_head_names(),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Tanh,
    .mlm_act_is_hidden_act = false,
};

}  // namespace bertcpp::model::families
