#include "ops/embedding.h"

#include <cstring>
#include <string>

#include "bertcpp/error.h"

namespace bertcpp::ops {

void embedding(const float* table, int64_t num_embeddings, int64_t dim, const int64_t* ids, int64_t n, float* out,
               bool accumulate) {
  for (int64_t i = 0; i < n; ++i)
    if (ids[i] < 0 || ids[i] >= num_embeddings)
      throw invalid_argument("embedding index " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                             " is outside [0, " + std::to_string(num_embeddings) + ")");
  for (int64_t i = 0; i < n; ++i) {
    const float* src = table + ids[i] * dim;
    float* dst = out + i * dim;
    if (accumulate)
      for (int64_t c = 0; c < dim; ++c) dst[c] += src[c];
    else
      std::memcpy(dst, src, static_cast<size_t>(dim) * sizeof(float));
  }
}

void add_row(float* out, int64_t n, int64_t dim, const float* row) {
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < dim; ++c) out[i * dim + c] += row[c];
}

void add_inplace(float* y, const float* x, int64_t n) {
#pragma omp parallel for schedule(static) if (n >= 65536)
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

}  // namespace bertcpp::ops
