// Own f32 GEMM for CPUs where oneDNN 2.6 has no brgemm matmul (AVX2 without AVX-512): its gemm:jit
// kernel there picks its K blocking and kernels by row count and threads, so a row's result changed
// with its batch (Determinism.* failed on an AVX2-only host). Here every output is one FMA chain over
// k ascending, whatever the tile, row count, block or thread: rows are bitwise independent.
#pragma once
#include <cstdint>
#include <vector>

namespace bertcpp::ops::cpu {

// True where f32 Linears use f32_avx2_gemm instead of oneDNN (AVX2 + FMA, no AVX-512).
bool f32_avx2_own();

// The weight w [out, in] packed per 8 output channels: [out/8][in][8] (the last block zero-padded).
std::vector<float> f32_avx2_pack(const float* w, int64_t out, int64_t in);

// Number of 16-column panels (the unit a task may take) of an out-wide Linear.
inline int64_t f32_avx2_panels(int64_t out) { return (out + 15) / 16; }

// y[r, c] = Σ_k x[r, k]·W[c, k] (+ bias[c]) for rows [0, rows) and the columns of panels
// [panel0, panel1), x with row stride ldx, y with row stride ldy.
void f32_avx2_gemm(const float* x, int64_t ldx, int64_t rows, int64_t in, const float* packed, int64_t out,
                   const float* bias, float* y, int64_t ldy, int64_t panel0, int64_t panel1);

}  // namespace bertcpp::ops::cpu
