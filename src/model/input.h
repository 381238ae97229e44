// Validation of a model::Input against a config, shared by every family's graph.
#pragma once
#include "model/config.h"
#include "model/types.h"

namespace bertcpp::model {

// InvalidArgument naming the tensor, the position and the value at fault: input_ids I64 [batch, seq],
// non-empty, at most config.max_sequence_length() tokens, ids inside the vocabulary;
// attention_mask / token_type_ids (when defined) shaped as input_ids, 0/1 and inside the type vocabulary.
void validate_input(const EncoderConfig& config, const Input& in);

}  // namespace bertcpp::model
