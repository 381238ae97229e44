// Gated linear units on a fused up-projection: the row [a | g] of width 2·n (a = the first n
// columns, g = the rest, as torch's chunk(2, dim=-1)) becomes act(a) ⊙ g. GeGLU is act = GELU
// (ModernBERT's Wi), SwiGLU act = SiLU.
#pragma once
#include <cstdint>

#include "ops/activation.h"

namespace bertcpp::ops {

// out[r, j] = act(in[r, j]) · in[r, n + j] for r < rows, j < n; in is [rows, 2n], out [rows, n]
// contiguous, not overlapping in.
void glu(const float* in, int64_t rows, int64_t n, Activation act, float* out);

}  // namespace bertcpp::ops
