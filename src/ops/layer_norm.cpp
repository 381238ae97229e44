#include "ops/layer_norm.h"

#include <cmath>

namespace bertcpp::ops {

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma,
                const float* beta, double eps, float* y) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* rr = residual ? residual + r * cols : nullptr;
    float* yr = y + r * cols;
    // v is written into y first (y may alias x or residual: each element is read before written).
    double sum = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      const float v = rr ? xr[c] + rr[c] : xr[c];
      yr[c] = v;
      sum += v;
    }
    const double mean = sum / static_cast<double>(cols);
    double sq = 0.0;
    for (int64_t c = 0; c < cols; ++c) {
      const double d = static_cast<double>(yr[c]) - mean;
      sq += d * d;
    }
    const double var = sq / static_cast<double>(cols);
    const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
    const float m = static_cast<float>(mean);
    for (int64_t c = 0; c < cols; ++c) yr[c] = (yr[c] - m) * rstd * gamma[c] + beta[c];
  }
}

}  // namespace bertcpp::ops
