// LayerNorm over the last dimension, optionally of (x + residual):
//   v = x + residual (rounded to float, as torch adds before normalising)
//   y = (v - mean(v)) / sqrt(var(v) + eps) · gamma + beta   (biased variance; beta null = no bias,
//   as torch's LayerNorm(bias=False))
// Mean and variance are accumulated in double over two passes.
#pragma once
#include <cstdint>

namespace bertcpp::ops {

// x, residual (nullable), y: [rows, cols] contiguous; gamma, beta (nullable): [cols]. y may alias x or residual.
void layer_norm(const float* x, const float* residual, int64_t rows, int64_t cols, const float* gamma,
                const float* beta, double eps, float* y);

}  // namespace bertcpp::ops
