// BERT (transformers' modeling_bert): the encoder's slots are its names, so the table only names
// the heads.
#include "model/family.h"

namespace bertcpp::model::families {

extern const Family bert{
    .name = "bert",
    .model_types = {"bert"},
    .prefix = "bert",
    .read_config = read_bert_style_config,
    .weight_names = concat({{"head.nsp", "cls.seq_relationship"}}, bert_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForPreTraining", HeadKind::PreTraining},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = true,
};

}  // namespace bertcpp::model::families
