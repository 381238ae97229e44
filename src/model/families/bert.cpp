// BERT (transformers' modeling_bert): the encoder's slots are its names, so the table only names
// the heads.
#include "model/family.h"

namespace bertcpp::model::families {

extern const Family bert{
    .name = "bert",
    .model_types = {"bert"},
    .prefix = "bert",
    .read_config = read_bert_style_config,
    .weight_names = concat({{"head.classifier.dense", "pooler.dense"},
                            {"head.classifier.out", "classifier"},
                            {"head.mlm.dense", "cls.predictions.transform.dense"},
                            {"head.mlm.layer_norm", "cls.predictions.transform.LayerNorm"},
                            {"head.mlm.decoder", "cls.predictions.decoder"},
                            {"head.mlm.bias", "cls.predictions.bias"},
                            {"head.nsp", "cls.seq_relationship"}},
                           token_and_qa_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForPreTraining", HeadKind::PreTraining},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Tanh,  // the pooler
    .mlm_act_is_hidden_act = true,
};

}  // namespace bertcpp::model::families
