// Softmax over the last dimension (max-subtracted), in place.
#pragma once
#include <cstdint>

namespace bertcpp::ops {

// x: [rows, cols] contiguous.
void softmax(float* x, int64_t rows, int64_t cols);

// Attention probabilities, in place: scores [batch, rows_per_batch, cols] become
// softmax(scores / divisor + additive_mask[b]) where additive_mask is [batch, cols] (nullable:
// no mask). The division (not a multiplication by 1/divisor) follows transformers.
void attention_softmax(float* scores, int64_t batch, int64_t rows_per_batch, int64_t cols, float divisor,
                       const float* additive_mask);

// The same for rows that are `cols` long but `row_stride` apart (row_stride >= cols), with one
// additive mask row [cols] (nullable) shared by all rows: one sequence's attention over its own
// keys inside a larger scores buffer.
void attention_softmax_strided(float* scores, int64_t rows, int64_t cols, int64_t row_stride, float divisor,
                               const float* additive_mask_row);

}  // namespace bertcpp::ops
