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
// contiguous, q[r,k] = round(x'[r,k] / scale) with scale = max_k |x'[r,k]| / 127 — stored as s8, or
// when `u8` as the u8 q + 128 (VNNI multiplies u8·s8: the GEMM then needs no s8 correction), and
// side[r·(1 + f.count)] = scale followed by x[r, f.channels[i]] (unscaled). An all-zero row gets
// scale 0; a row with an inf or NaN gets a NaN scale (its outputs become NaN, as in f32).
void int8_quantize_rows(const float* x, int64_t rows, int64_t in, int64_t stride, const float* inv_smooth,
                        const F32Channels& f, bool u8, int8_t* q, float* side);

// Epilogue of one GEMM tile, on the calling thread, one pass per row (then the activation): acc
// [rows, n] holds the s32 sums, comp[c] what the input codes' offset added to them (128·Σ_k q_w[c,k]
// for u8 codes, else 0), side the rows' [scale, f32 channel values] (stride 1 + f.count);
// y[r·y_stride + c] = act(((acc[r, c] − comp[c])·sw[c])·scale[r] + bias[c] + Σ_i x_i·f.weight[i, c])
// (bias may be null). y may alias acc when y_stride = n (each element is read before it is written).
void int8_epilogue(const int32_t* acc, int64_t rows, int64_t n, const int32_t* comp, const float* sw, const float* side,
                   const F32Channels& f, const float* bias, Activation act, float* y, int64_t y_stride);

// Own exact int8 GEMM for AVX2 CPUs without AVX-512 VNNI: oneDNN 2.6's AVX2 s8·s8 kernel sums
// pairs of u8·s8 products in saturating s16 (vpmaddubsw), which broke LinearInt8's error bounds on
// an AVX2-only host (errors up to 15× the bound). Here s8 codes are widened to s16 and vpmaddwd sums
// pairs exactly in s32, at the same instruction count.
// True on AVX2 CPUs without AVX-512 VNNI (where int8 Linears then use it instead of oneDNN).
bool int8_avx2_exact();
// The weight q [out, in] packed for int8_avx2_gemm: per 8 output channels, per 2 input channels,
// 8×2 s16; out padded to 8 and in to 2 with zeros.
std::vector<int16_t> int8_avx2_pack(const int8_t* q, int64_t out, int64_t in);
// acc[rows, out] (s32, contiguous) = s8 rows a [rows, in] · packed weightᵀ, the columns of panels
// [panel0, panel1) (16 columns each; panel1 < 0: to the last), on the calling thread.
void int8_avx2_gemm(const int8_t* a, int64_t rows, int64_t in, const int16_t* packed, int64_t out, int32_t* acc,
                    int64_t panel0 = 0, int64_t panel1 = -1);
inline int64_t int8_avx2_panels(int64_t out) { return (out + 15) / 16; }

}  // namespace bertcpp::ops::cpu
