// Batched matrix product over strided 4-D views: c[i,j] = a[i,j] · b[i,j] for every batch index
// (i, j), where a is [d0, d1, m, k], b is [d0, d1, k, n], c is [d0, d1, m, n]. Strides are in
// elements, so a transposed operand (e.g. Kᵀ for attention scores) or a head-interleaved layout
// ([batch, seq, heads·head_dim] viewed as [batch, heads, seq, head_dim]) needs no copy.
#pragma once
#include <array>
#include <cstdint>

namespace bertcpp::ops {

struct StridedView {
  const float* data = nullptr;
  std::array<int64_t, 4> dims{};     // [d0, d1, rows, cols]
  std::array<int64_t, 4> strides{};  // element strides of each dim
};
struct MutableStridedView {
  float* data = nullptr;
  std::array<int64_t, 4> dims{};
  std::array<int64_t, 4> strides{};
};

// Contiguous row-major strides for dims.
std::array<int64_t, 4> contiguous_strides(const std::array<int64_t, 4>& dims);

// c = a · b (overwrites c). Throws InvalidArgument on mismatched dims. Thread-safe.
void batched_matmul(const StridedView& a, const StridedView& b, const MutableStridedView& c);

}  // namespace bertcpp::ops
