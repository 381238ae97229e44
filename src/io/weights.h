// The one place that maps checkpoint names to BERT weights. Accepts every layout real
// checkpoints have: with or without the "bert." prefix, legacy LayerNorm gamma/beta, the
// embeddings.position_ids buffer (ignored), heads (cls.*, classifier.*, qa_outputs.*), and an MLM
// decoder weight that is absent because it is tied to the word embeddings.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"
#include "io/checkpoint.h"
#include "io/config.h"

namespace bertcpp::io {

// Which head a model carries, chosen from config.architectures.
enum class HeadKind { None, MaskedLM, PreTraining, SequenceClassification, TokenClassification, QuestionAnswering };
HeadKind head_from_architectures(const std::vector<std::string>& architectures);
std::string head_name(HeadKind head);  // "none", "masked-lm", "sequence-classification", ...

// The canonical name of a stored name: strips "bert.", LayerNorm gamma/beta -> weight/bias.
std::string canonical_weight_name(const std::string& stored);

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

// Everything needed to build a model from a folder (or a weights file next to its config.json):
// config.json, the checkpoint, and the validated weights for `head` (default: from
// config.architectures).
struct BertModelFiles {
  BertConfig config;
  HeadKind head = HeadKind::None;
  Checkpoint checkpoint;
  BertWeights weights;
};
BertModelFiles load_bert(const std::filesystem::path& path, std::optional<HeadKind> head = std::nullopt);

}  // namespace bertcpp::io
