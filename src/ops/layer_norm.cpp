// LayerNorm rows, vectorized per ISA (BERTCPP_MULTIVERSION); each row in one thread, so a row's
// result does not depend on the thread count.
#include "ops/layer_norm.h"

#include <omp.h>

#include <cmath>

#include "ops/cpu/multiversion.h"

namespace bertcpp::ops {

namespace {
// Cloned per ISA; the OpenMP loop stays outside the clones (GCC outlines parallel regions into
// functions that would not inherit the clone's target).
BERTCPP_MULTIVERSION
void layer_norm_row(const float* xr, const float* rr, int64_t cols, const float* gamma,
                    const float* beta, double eps, float* yr) {
  // v is written into y first (y may alias x or residual: each element is read before written).
  double sum = 0.0;
  if (rr) {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = xr[c] + rr[c];
      yr[c] = v;
      sum += static_cast<double>(v);
    }
  } else {
#pragma omp simd reduction(+ : sum)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = xr[c];
      yr[c] = v;
      sum += static_cast<double>(v);
    }
  }
  const double mean = sum / static_cast<double>(cols);
  double sq = 0.0;
#pragma omp simd reduction(+ : sq)
  for (int64_t c = 0; c < cols; ++c) {
    const double d = static_cast<double>(yr[c]) - mean;
    sq += d * d;
  }
  const double var = sq / static_cast<double>(cols);
  const float rstd = static_cast<float>(1.0 / std::sqrt(var + eps));
  const float m = static_cast<float>(mean);
  if (beta) {
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) yr[c] = (yr[c] - m) * rstd * gamma[c] + beta[c];
  } else {
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) yr[c] = (yr[c] - m) * rstd * gamma[c];
  }
}

BERTCPP_MULTIVERSION
void rms_norm_row(const float* xr, const float* rr, int64_t cols, const float* gamma, double eps, float* yr) {
  double sq = 0.0;
#pragma omp simd reduction(+ : sq)
  for (int64_t c = 0; c < cols; ++c) {
    const float v = rr ? xr[c] + rr[c] : xr[c];
    yr[c] = v;
    sq += static_cast<double>(v) * static_cast<double>(v);
  }
  const float r = static_cast<float>(1.0 / std::sqrt(sq / static_cast<double>(cols) + eps));
#pragma omp simd
  for (int64_t c = 0; c < cols; ++c) yr[c] = gamma[c] * (yr[c] * r);
}
}  // namespace

void rms_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma, double eps,
              float* y) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384)
  for (int64_t r = 0; r < rows; ++r)
    rms_norm_row(x + r * cols, residual ? residual + r * cols : nullptr, cols, gamma, eps, y + r * cols);
}

void layer_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma,
                const float* beta, double eps, float* y) {
  if (rows <= 0 || cols <= 0) return;
#pragma omp parallel for schedule(static) if (rows * cols >= 16384 && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r)
    layer_norm_row(x + r * cols, residual ? residual + r * cols : nullptr, cols, gamma, beta, eps, y + r * cols);
}

}  // namespace bertcpp::ops
