// Linear: y = x·Wᵀ + b, with W stored [out_features, in_features] as in a checkpoint.
// The weight is packed once at construction into the layout the CPU GEMM prefers; the GEMM
// itself (and its per-shape plan cache) lives behind this interface. Thread-safe: const calls
// may run concurrently.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "bertcpp/tensor.h"
#include "ops/activation.h"

namespace bertcpp::ops {

// What the GEMM multiplies in. BF16: the weight is converted to bf16 once at construction and
// each call's input rows are rounded to bf16 (nearest even); accumulation and output stay f32.
// Int8: the weight is quantized once at construction, symmetric per output channel
// (sw[c] = max_k |W[c,k]| / 127); each call quantizes its input per ROW, symmetric
// (sx[r] = max_k |x[r,k]| / 127), the GEMM multiplies them → s32 (exact), then
// y[r,c] = act(acc·sw[c]·sx[r] + b[c]). The GEMM is oneDNN's s8·s8, or on AVX2 CPUs without
// AVX-512 VNNI bertcpp's own (oneDNN's AVX2 kernel saturates; ops/cpu/int8.h). A row's result depends only on that row (not on its batch
// neighbours) and is deterministic: the s32 accumulation is exact whatever the GEMM's blocking.
// Int8 calls of 64 rows or more run as row-block tasks (16–64 rows, the full width each) that the
// OpenMP threads take dynamically; fewer rows are one oneDNN call on all threads.
enum class GemmType { F32, BF16, Int8 };

class Linear {
 public:
  Linear() = default;
  // weight: F32 [out, in]; bias: F32 [out] or undefined (no bias). The weight is packed (copied)
  // or, when packing does not apply, kept alive by a shallow copy of the tensor.
  // `activation` is applied to the result inside the GEMM: y = act(x·Wᵀ + b).
  // Throws Unsupported when the CPU has no GEMM for `gemm` (bf16 needs AVX-512).
  // `input_absmax` (Int8 only; F32 [in] or undefined): an estimate of max |x[:, k]| per input
  // channel. When given, the weight is smoothed before quantization (SmoothQuant, α = ½):
  // s[k] = √(input_absmax[k] / max_c |W[c,k]|), W'[:,k] = W[:,k]·s[k], and each call's input is
  // divided by s[k] in the quantization pass — x·Wᵀ is unchanged, but channels that are large in
  // every row (outlier channels) no longer take all of a row's int8 range.
  Linear(const Tensor& weight, const Tensor& bias, Activation activation = Activation::Identity,
         GemmType gemm = GemmType::F32, const Tensor& input_absmax = Tensor());

  bool defined() const { return impl_ != nullptr; }
  int64_t in_features() const;
  int64_t out_features() const;
  Activation activation() const;
  GemmType gemm() const;

  // y[rows, out] = x[rows, in]·Wᵀ + b. Row r of x starts at x + r*x_row_stride (x_row_stride ≥ in;
  // 0 means in). y is contiguous. x and y must not overlap.
  void forward(const float* x, int64_t rows, float* y, int64_t x_row_stride = 0) const;

  // Int8 only: a Linear sharing this one's packed weights whose input channels `channels` are left
  // out of the int8 GEMM and multiplied in f32 beside it: y += x[:, j]·W[:, j] for each j (the f32
  // column of `weight`, the F32 [out, in] weight this Linear was built from). A row's int8 scale is
  // then set by its other channels, so a few outlier channels (trained models have them, large in
  // most tokens) no longer coarsen the int8 step of all the rest. Replaces any f32 channels before.
  Linear with_f32_channels(const Tensor& weight, const std::vector<int64_t>& channels) const;
  const std::vector<int64_t>& f32_channels() const;
  // Int8 only: a Linear sharing this one's weights that also records max |x[r, k]| per input channel
  // over every row it quantizes (after smoothing), for a probe pass: input_absmax() returns it
  // (zeros before any row; empty for a Linear that does not record).
  Linear recording_input_absmax() const;
  std::vector<float> input_absmax() const;

  // Int8 only: floats per row of the `scale` rows below: the row's int8 scale, then its values of
  // the f32 channels (1 + f32_channels().size()).
  int64_t scale_stride() const;
  // Int8 only: rows quantized for this Linear as forward does (its smoothing applied):
  // q [rows, in] contiguous, scale [rows, scale_stride()]. Runs on the calling thread (for use
  // inside RowFinish).
  void quantize_input(const float* x, int64_t rows, int8_t* q, float* scale, int64_t x_row_stride = 0) const;

  // Int8 only: the GEMM with work after the epilogue fused per row block. The input is either f32
  // rows x (quantized by the task that owns them) or, when x is null, rows already quantized for this
  // Linear (q [rows, in], scale [rows, scale_stride()], from quantize_input). Every output row is finished exactly once:
  // finish(first, n, rows) runs on the thread that computed rows [first, first + n), with their f32
  // results act(x·Wᵀ + b) at `rows` (row stride out_features) — inside y when y is given (then at
  // y + first·out), else in a per-thread tile valid until finish returns. finish may write only data
  // of its own rows. Results are bitwise those of forward: blocking never changes a row's result.
  using RowFinish = void (*)(void* ctx, int64_t first, int64_t n, float* rows);
  void forward_int8(const float* x, const int8_t* q, const float* scale, int64_t rows, float* y, RowFinish finish,
                    void* finish_ctx) const;
  // Tensor form: x F32 [..., in] contiguous -> new F32 [..., out].
  Tensor forward(const Tensor& x) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp::ops
