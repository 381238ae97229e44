// The encoder's weight slots and the one loader that fills them from a checkpoint through a
// family's weight table. Slots are named as transformers' BertModel names its weights, without
// prefix ("embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.query.weight",
// "pooler.dense.weight"), plus head slots ("head.mlm.dense.weight", "head.classifier.out.bias", ...).
// Stored names are found with or without the family's "{prefix}." and with legacy LayerNorm
// gamma/beta; other heads and buffers (position_ids, inv_freq) are ignored, a tensor inside a layer
// that no slot reads is an error (a variant of the graph).
// Every tensor is F32 (converted exactly from F16/BF16; zero-copy for F32 safetensors).
#pragma once
#include <map>
#include <string>
#include <vector>

#include "bertcpp/tensor.h"
#include "io/checkpoint.h"
#include "model/family.h"

namespace bertcpp::model {

struct Weights {
  std::map<std::string, Tensor> tensors;  // by slot name
  // Set when the config's head is not in the checkpoint: the base model loads without it (as
  // transformers' base classes do) and running the head reports this.
  std::string head_missing;

  bool has(const std::string& slot) const { return tensors.count(slot) > 0; }
  const Tensor& get(const std::string& slot) const;  // throws NotFound naming the slot
};

// The checkpoint name a family stores `slot` under (without the prefix), e.g. DistilBERT's
// "encoder.layer.2.attention.self.query.weight" -> "transformer.layer.2.attention.q_lin.weight".
std::string stored_name(const Family& family, const std::string& slot);

// Loads every base weight the config needs (one Error lists every missing or mis-shaped weight),
// the pooler when present, and `head`'s weights when present (mis-shaped ones are an error).
Weights load_weights(const io::Checkpoint& checkpoint, const EncoderConfig& config, const Family& family,
                     HeadKind head);

}  // namespace bertcpp::model
