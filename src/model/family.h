// A model family (BERT, RoBERTa, DistilBERT, ...) as data: which config.json model_type values it
// reads, how it reads its own config fields, and its weight table — the checkpoint name of each of
// the encoder's weight slots (model/weights.h). Families are listed in model/families.cpp, one
// line each; the graph is the one encoder (model/encoder.h), with flags a family's config sets.
#pragma once
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "model/config.h"
#include "model/types.h"

namespace bertcpp::model {

class Network;

// The task head a checkpoint carries, chosen from config.architectures.
enum class HeadKind {
  None,                    // *Model
  MaskedLM,                // *ForMaskedLM (prediction_logits)
  PreTraining,             // BertForPreTraining (prediction_logits + seq_relationship_logits)
  Discriminator,           // ElectraForPreTraining: replaced-token detection, logits [batch, seq]
  SequenceClassification,  // *ForSequenceClassification (logits [batch, labels])
  TokenClassification,     // *ForTokenClassification (logits [batch, seq, labels])
  QuestionAnswering,       // *ForQuestionAnswering (start_logits, end_logits)
};
std::string head_name(HeadKind head);  // "none", "masked-lm", "sequence-classification", ...

// Slot name pattern -> stored name pattern, as Family::weight_names holds them.
using NameTable = std::vector<std::pair<std::string, std::string>>;
// The heads every family stores as BERT does: classifier (token classification), qa_outputs.
NameTable token_and_qa_head_names();
// BERT's heads (modeling_bert), which JinaBERT keeps: pooler.dense + classifier on the first token,
// cls.predictions.{transform.dense,transform.LayerNorm,decoder,bias}, then token_and_qa_head_names().
NameTable bert_head_names();
// RoBERTa's heads (modeling_roberta), which MPNet and the rotary post-norm families copy:
// classifier.dense + out_proj on the first token, lm_head.{dense,layer_norm,decoder,bias},
// then token_and_qa_head_names().
NameTable roberta_head_names();
// `a` followed by `b` (a family's own rows, then a shared head list).
NameTable concat(NameTable a, const NameTable& b);

struct Family {
  std::string name;                      // "bert", "roberta", ...: what errors and inspect say
  std::vector<std::string> model_types;  // config.json model_type values this family reads
  std::string prefix;                    // transformers' base_model_prefix ("bert", "roberta", ...)
  // Reads the family's own fields into `c` (the shared ones are already read) and sets its flags.
  void (*read_config)(const io::ConfigReader& r, EncoderConfig& c) = nullptr;
  // Slot name pattern -> stored name pattern ("{i}" = layer index); a slot not listed is stored
  // under its own name (the slots are BERT's names: see model/weights.h).
  NameTable weight_names;
  // architectures suffix ("ForMaskedLM", ...) -> head; "Model" and unknown names give None.
  std::vector<std::pair<std::string, HeadKind>> heads;
  // Activations of the heads whose transformers code fixes one (not config.hidden_act).
  ops::Activation classifier_act = ops::Activation::Tanh;  // first-token dense before the classifier
  bool mlm_act_is_hidden_act = true;                        // else GELU (erf), as RoBERTa's lm_head
  // The family's own graph (model/network.h); nullptr = the encoder (model/encoder.h).
  std::unique_ptr<Network> (*load)(const std::filesystem::path& dir, const EncoderConfig& config, const Family& family,
                                   const Options& options) = nullptr;
};

// Every registered family, in registry order.
std::span<const Family* const> registered_families();
// The family reading `model_type`, or nullptr.
const Family* find_family(const std::string& model_type);
// The head config.architectures asks for (the first architecture the family knows).
HeadKind head_from_architectures(const Family& family, const std::vector<std::string>& architectures);

}  // namespace bertcpp::model
