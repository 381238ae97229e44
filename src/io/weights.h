// The one place that maps checkpoint names to BERT weights. Accepts every layout real
// checkpoints have: with or without the "bert." prefix, legacy LayerNorm gamma/beta, the
// embeddings.position_ids buffer (ignored), heads (cls.*, classifier.*, qa_outputs.*), and an MLM
// decoder weight that is absent because it is tied to the word embeddings.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/checkpoint.h"
#include "io/config.h"

namespace bertcpp::io {

// Which head a model carries, chosen from config.architectures.
enum class HeadKind { None, MaskedLM, PreTraining, SequenceClassification, TokenClassification, QuestionAnswering };
HeadKind head_from_architectures(const std::vector<std::string>& architectures);

// Weights by canonical name: transformers' BertModel names without prefix, with "weight"/"bias"
// (e.g. "embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.query.weight",
// "encoder.layer.3.attention.output.LayerNorm.weight", "pooler.dense.weight"); head weights keep
// their transformers names ("cls.predictions.transform.dense.weight", "cls.predictions.decoder.weight",
// "cls.predictions.bias", "cls.seq_relationship.weight", "classifier.weight", "qa_outputs.weight").
// Every tensor is F32 (converted exactly from F16/BF16; zero-copy for F32 safetensors).
class BertWeights {
 public:
  // Validates presence and shape of every weight the config and head need; one Error lists all
  // missing or mis-shaped weights.
  static BertWeights load(const Checkpoint& checkpoint, const BertConfig& config, HeadKind head);
  bool has(const std::string& canonical) const;
  const Tensor& get(const std::string& canonical) const;  // throws NotFound
  const std::map<std::string, Tensor>& all() const { return tensors_; }

 private:
  std::map<std::string, Tensor> tensors_;
};

}  // namespace bertcpp::io
