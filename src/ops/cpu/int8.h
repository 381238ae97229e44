// Int8 helpers of Linear (GemmType::Int8, see ops/linear.h): weight quantization and smoothing at
// load, and the per-call passes around the oneDNN s8 GEMM. Private to ops/cpu/.
#pragma once
#include <cstdint>
#include <vector>

#include "bertcpp/tensor.h"
#include "ops/activation.h"

namespace bertcpp::ops::cpu {

// SmoothQuant factors, migration strength α = ½: s[k] = √(absmax[k] / max_c |W[c,k]|), clamped
// to [1e-4, 1e4]; channels with no positive finite estimate or an all-zero column keep s = 1.
// w: [out, in] row-major; absmax: F32 [in].
std::vector<float> int8_smoothing(const float* w, int64_t out, int64_t in, const Tensor& absmax);

// Per-output-channel symmetric quantization of W'[c,k] = W[c,k]·s[k] (s = smooth, or 1 when
// empty): sw[c] = max_k |W'[c,k]| / 127 (1 for an all-zero row), q[c,k] = round(W'[c,k] / sw[c]).
void int8_quantize_weight(const float* w, int64_t out, int64_t in, const std::vector<float>& smooth, int8_t* q,
                          float* sw);

// The input channels of a Linear multiplied in f32 beside its int8 GEMM (outlier channels): their
// indices, and W[:, j] of each as a row [n_channels, out].
struct F32Channels {
  const int64_t* channels = nullptr;
  int64_t count = 0;
  const float* weight = nullptr;
};

// Per-row symmetric quantization of rows of x (row r at x + r·stride), each multiplied by
// inv_smooth[k] (1/s of the smoothing, 0 at the f32 channels; or null): into q [rows, in]
// contiguous, q[r,k] = round(x'[r,k] / scale) with scale = max_k |x'[r,k]| / 127, and
// side[r·(1 + f.count)] = scale followed by x[r, f.channels[i]] (unscaled). An all-zero row gets
// scale 0; a row with an inf or NaN gets a NaN scale (its outputs become NaN, as in f32).
void int8_quantize_rows(const float* x, int64_t rows, int64_t in, int64_t stride, const float* inv_smooth,
                        const F32Channels& f, int8_t* q, float* side);

// Epilogue of one GEMM tile, on the calling thread: acc [rows, n] holds the s32 sums, side the
// rows' [scale, f32 channel values] (stride 1 + f.count);
// y[r·y_stride + c] = act((acc[r, c]·sw[c])·scale[r] + bias[c] + Σ_i x_i·f.weight[i, c]) (bias may
// be null). y may alias acc when y_stride = n (each element is read before it is written).
void int8_epilogue(const int32_t* acc, int64_t rows, int64_t n, const float* sw, const float* side,
                   const F32Channels& f, const float* bias, Activation act, float* y, int64_t y_stride);

}  // namespace bertcpp::ops::cpu
