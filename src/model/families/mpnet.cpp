// MPNet (modeling_mpnet): BERT's post-norm layers under other names, RoBERTa's positions, no token
// types, and one relative position bias (buckets × heads) shared by every layer's attention.
#include "model/family.h"

namespace bertcpp::model::families {

namespace {
void read_mpnet_config(const io::ConfigReader& r, EncoderConfig& c) {
  c.vocab_size = 30527;
  c.max_position_embeddings = 514;
  c.pad_token_id = 1;
  c.relative_attention_num_buckets = 32;
  read_bert_style_config(r, c);
  c.type_vocab_size = 0;
  c.positions_from_padding = true;
  r.int_field("relative_attention_num_buckets", c.relative_attention_num_buckets, 1, 4096);
}
}  // namespace

extern const Family mpnet{
    .name = "mpnet",
    .model_types = {"mpnet"},
    .prefix = "mpnet",
    .read_config = read_mpnet_config,
    .weight_names = concat({{"encoder.layer.{i}.attention.self.query", "encoder.layer.{i}.attention.attn.q"},
                            {"encoder.layer.{i}.attention.self.key", "encoder.layer.{i}.attention.attn.k"},
                            {"encoder.layer.{i}.attention.self.value", "encoder.layer.{i}.attention.attn.v"},
                            {"encoder.layer.{i}.attention.output.dense", "encoder.layer.{i}.attention.attn.o"},
                            {"encoder.layer.{i}.attention.output.LayerNorm", "encoder.layer.{i}.attention.LayerNorm"}},
                           roberta_head_names()),
    .heads = {{"ForMaskedLM", HeadKind::MaskedLM},
              {"ForSequenceClassification", HeadKind::SequenceClassification},
              {"ForTokenClassification", HeadKind::TokenClassification},
              {"ForQuestionAnswering", HeadKind::QuestionAnswering}},
    .classifier_act = ops::Activation::Tanh,
    .mlm_act_is_hidden_act = false,
};

}  // namespace bertcpp::model::families
