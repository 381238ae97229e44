#include "ops/softmax.h"

#include <cmath>
#include <limits>

namespace bertcpp::ops {

namespace {
inline void softmax_row(float* x, int64_t cols) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int64_t c = 0; c < cols; ++c) mx = x[c] > mx ? x[c] : mx;
  float sum = 0.0f;
  for (int64_t c = 0; c < cols; ++c) {
    x[c] = std::exp(x[c] - mx);
    sum += x[c];
  }
  const float inv = 1.0f / sum;
  for (int64_t c = 0; c < cols; ++c) x[c] *= inv;
}
}  // namespace

void softmax(float* x, int64_t rows, int64_t cols) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r) softmax_row(x + r * cols, cols);
}

void attention_softmax(float* scores, int64_t batch, int64_t rows_per_batch, int64_t cols, float divisor,
                       const float* additive_mask) {
  if (batch <= 0 || rows_per_batch <= 0 || cols <= 0) return;
  const int64_t rows = batch * rows_per_batch;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r) {
    float* x = scores + r * cols;
    const float* m = additive_mask ? additive_mask + (r / rows_per_batch) * cols : nullptr;
    if (m)
      for (int64_t c = 0; c < cols; ++c) x[c] = x[c] / divisor + m[c];
    else
      for (int64_t c = 0; c < cols; ++c) x[c] = x[c] / divisor;
    softmax_row(x, cols);
  }
}

void attention_softmax_strided(float* scores, int64_t rows, int64_t cols, int64_t row_stride, float divisor,
                               const float* m) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r) {
    float* x = scores + r * row_stride;
    if (m)
      for (int64_t c = 0; c < cols; ++c) x[c] = x[c] / divisor + m[c];
    else
      for (int64_t c = 0; c < cols; ++c) x[c] = x[c] / divisor;
    softmax_row(x, cols);
  }
}

}  // namespace bertcpp::ops
