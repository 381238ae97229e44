// LayerNorm over the last dimension, optionally of (x + residual):
//   v = x + residual (rounded to float, as torch adds before normalising)
//   y = (v - mean(v)) / sqrt(var(v) + eps) · gamma + beta   (biased variance; beta null = no bias,
//   as torch's LayerNorm(bias=False))
// Mean and variance are accumulated in double over two passes.
// rms_norm: RMSNorm (T5's LayerNorm, GTE-v1.5's layer_norm_type "rms_norm"), no mean and no bias:
//   y = gamma · (v · rsqrt(mean(v²) + eps))   (mean(v²) in double, the rest in float as torch)
#pragma once
#include <cstdint>

namespace bertcpp::ops {

// x, residual (nullable), y: [rows, cols] contiguous; gamma, beta (nullable): [cols]. y may alias x or residual.
void layer_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma,
                const float* beta, double eps, float* y);
// Same layout as layer_norm.
void rms_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma, double eps,
              float* y);

}  // namespace bertcpp::ops
