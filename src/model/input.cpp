// Input checks (moved from the encoder so every graph runs the same ones).
#include "model/input.h"

#include <algorithm>
#include <string>

#include "bertcpp/error.h"

namespace bertcpp::model {

namespace {
std::string at(int64_t b, int64_t s) { return "[" + std::to_string(b) + ", " + std::to_string(s) + "]"; }
}  // namespace

void validate_input(const EncoderConfig& config, const Input& in) {
  const Tensor& ids = in.input_ids;
  if (!ids.defined()) throw invalid_argument("input_ids is missing");
  if (ids.dtype() != DType::I64 || ids.rank() != 2)
    throw invalid_argument("input_ids must be I64 [batch, seq], got " + std::string(dtype_name(ids.dtype())) + " " +
                           shape_to_string(ids.shape()));
  const int64_t B = ids.dim(0), S = ids.dim(1);
  if (B == 0 || S == 0) throw invalid_argument("input_ids is empty: shape " + shape_to_string(ids.shape()));
  if (S > config.max_sequence_length())
    throw invalid_argument("sequence length " + std::to_string(S) + " exceeds this model's maximum " +
                           std::to_string(config.max_sequence_length()) + " (max_position_embeddings " +
                           std::to_string(config.max_position_embeddings) +
                           (config.position_offset() ? ", positions from " + std::to_string(config.position_offset()) : "") +
                           "); truncate the input");
  const int64_t* id = ids.data<int64_t>();
  for (int64_t i = 0; i < B * S; ++i)
    if (id[i] < 0 || id[i] >= config.vocab_size)
      throw invalid_argument("input_ids" + at(i / S, i % S) + " = " + std::to_string(id[i]) +
                             " is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
  auto check_shape = [&](const Tensor& t, const char* name) {
    if (t.dtype() != DType::I64 || t.shape() != ids.shape())
      throw invalid_argument(std::string(name) + " must be I64 " + shape_to_string(ids.shape()) +
                             " like input_ids, got " + std::string(dtype_name(t.dtype())) + " " + shape_to_string(t.shape()));
  };
  if (in.attention_mask.defined()) {
    check_shape(in.attention_mask, "attention_mask");
    const int64_t* m = in.attention_mask.data<int64_t>();
    for (int64_t i = 0; i < B * S; ++i)
      if (m[i] != 0 && m[i] != 1)
        throw invalid_argument("attention_mask" + at(i / S, i % S) + " = " + std::to_string(m[i]) + " is not 0 or 1");
  }
  if (in.token_type_ids.defined()) {
    check_shape(in.token_type_ids, "token_type_ids");
    const int64_t types = std::max<int64_t>(config.type_vocab_size, 1);  // families without types take zeros
    const int64_t* t = in.token_type_ids.data<int64_t>();
    for (int64_t i = 0; i < B * S; ++i)
      if (t[i] < 0 || t[i] >= types)
        throw invalid_argument("token_type_ids" + at(i / S, i % S) + " = " + std::to_string(t[i]) +
                               " is outside [0, type_vocab_size " + std::to_string(types) + ")" +
                               (config.type_vocab_size <= 1 ? " (this model has no token types: send zeros or none)" : ""));
  }
}

}  // namespace bertcpp::model
