// The family registry: one line per family (its file in model/families/ holds the rest).
#include "model/family.h"

namespace bertcpp::model {

namespace families {
extern const Family bert, roberta, distilbert, electra, mpnet, modernbert, nomic_bert, gte, gte_new, jina_bert;
}  // namespace families

namespace {
const Family* const kFamilies[] = {
    &families::bert,
    &families::roberta,
    &families::distilbert,
    &families::electra,
    &families::mpnet,
    &families::modernbert,
    &families::nomic_bert,
    &families::gte,
    &families::gte_new,
    &families::jina_bert,
};
}  // namespace

std::span<const Family* const> registered_families() { return kFamilies; }

const Family* find_family(const std::string& model_type) {
  for (const Family* f : kFamilies)
    for (const auto& t : f->model_types)
      if (t == model_type) return f;
  return nullptr;
}

NameTable token_and_qa_head_names() { return {{"head.token", "classifier"}, {"head.qa", "qa_outputs"}}; }

NameTable bert_head_names() {
  return concat({{"head.classifier.dense", "pooler.dense"},
                 {"head.classifier.out", "classifier"},
                 {"head.mlm.dense", "cls.predictions.transform.dense"},
                 {"head.mlm.layer_norm", "cls.predictions.transform.LayerNorm"},
                 {"head.mlm.decoder", "cls.predictions.decoder"},
                 {"head.mlm.bias", "cls.predictions.bias"}},
                token_and_qa_head_names());
}

NameTable roberta_head_names() {
  return concat({{"head.classifier.dense", "classifier.dense"},
                 {"head.classifier.out", "classifier.out_proj"},
                 {"head.mlm.dense", "lm_head.dense"},
                 {"head.mlm.layer_norm", "lm_head.layer_norm"},
                 {"head.mlm.decoder", "lm_head.decoder"},
                 {"head.mlm.bias", "lm_head.bias"}},
                token_and_qa_head_names());
}

NameTable concat(NameTable a, const NameTable& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

HeadKind head_from_architectures(const Family& family, const std::vector<std::string>& architectures) {
  auto ends_with = [](const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const auto& a : architectures) {
    if (ends_with(a, "Model")) return HeadKind::None;
    for (const auto& [suffix, head] : family.heads)
      if (ends_with(a, suffix)) return head;
  }
  return HeadKind::None;
}

std::string head_name(HeadKind head) {
  switch (head) {
    case HeadKind::None: return "none";
    case HeadKind::MaskedLM: return "masked-lm";
    case HeadKind::PreTraining: return "pretraining";
    case HeadKind::Discriminator: return "discriminator";
    case HeadKind::SequenceClassification: return "sequence-classification";
    case HeadKind::TokenClassification: return "token-classification";
    case HeadKind::QuestionAnswering: return "question-answering";
  }
  return "?";
}

}  // namespace bertcpp::model
