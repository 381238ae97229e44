// model/'s own contract (the api converts its public types to these once): a padded batch in,
// transformers-named outputs out.
#pragma once
#include <vector>

#include "bertcpp/tensor.h"
#include "ops/linear.h"

namespace bertcpp::model {

struct Options {
  int threads = 0;  // 0 = all cores
  ops::GemmType gemm = ops::GemmType::F32;
};

// [batch, seq] I64 tensors; attention_mask 1 = token (undefined = all ones), token_type_ids
// undefined = zeros. Validated once, by Encoder::forward.
struct Input {
  Tensor input_ids, attention_mask, token_type_ids;
  int64_t batch_size() const { return input_ids.dim(0); }
  int64_t seq_len() const { return input_ids.dim(1); }
};

struct Request {
  bool hidden_states = false;  // every layer's output, embeddings first
  bool attentions = false;     // every layer's attention probabilities [batch, heads, seq, seq]
  bool pooler = true;          // pooler_output, when the checkpoint has a pooler
  bool head = true;            // the task head's outputs (a head runs only when asked for)
};

struct Output {
  Tensor last_hidden_state;           // [batch, seq, hidden]
  Tensor pooler_output;               // [batch, hidden]
  std::vector<Tensor> hidden_states;  // num_layers + 1 of [batch, seq, hidden]
  std::vector<Tensor> attentions;     // num_layers of [batch, heads, seq, seq]
  Tensor logits;                      // sequence classification [batch, labels]; token classification
                                      // [batch, seq, labels]; discriminator [batch, seq]
  Tensor prediction_logits;           // masked LM [batch, seq, vocab]
  Tensor seq_relationship_logits;     // BERT pre-training NSP [batch, 2]
  Tensor start_logits, end_logits;    // question answering [batch, seq]
};

}  // namespace bertcpp::model
