// Linear: y = x·Wᵀ + b, with W stored [out_features, in_features] as in a checkpoint.
// The weight is packed once at construction into the layout the CPU GEMM prefers; the GEMM
// itself (and its per-shape plan cache) lives behind this interface. Thread-safe: const calls
// may run concurrently.
#pragma once
#include <cstdint>
#include <memory>

#include "bertcpp/tensor.h"
#include "ops/activation.h"

namespace bertcpp::ops {

// What the GEMM multiplies in. BF16: the weight is converted to bf16 once at construction and
// each call's input rows are rounded to bf16 (nearest even); accumulation and output stay f32.
enum class GemmType { F32, BF16 };

class Linear {
 public:
  Linear() = default;
  // weight: F32 [out, in]; bias: F32 [out] or undefined (no bias). The weight is packed (copied)
  // or, when packing does not apply, kept alive by a shallow copy of the tensor.
  // `activation` is applied to the result inside the GEMM: y = act(x·Wᵀ + b).
  // Throws Unsupported when the CPU has no GEMM for `gemm` (bf16 needs AVX-512).
  Linear(const Tensor& weight, const Tensor& bias, Activation activation = Activation::Identity,
         GemmType gemm = GemmType::F32);

  bool defined() const { return impl_ != nullptr; }
  int64_t in_features() const;
  int64_t out_features() const;
  Activation activation() const;

  // y[rows, out] = x[rows, in]·Wᵀ + b. Row r of x starts at x + r*x_row_stride (x_row_stride ≥ in;
  // 0 means in). y is contiguous. x and y must not overlap.
  void forward(const float* x, int64_t rows, float* y, int64_t x_row_stride = 0) const;
  // Tensor form: x F32 [..., in] contiguous -> new F32 [..., out].
  Tensor forward(const Tensor& x) const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp::ops
