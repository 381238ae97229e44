#include "ops/cpu/f32_avx2.h"

#include <algorithm>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace bertcpp::ops::cpu {

bool f32_avx2_own() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                        !__builtin_cpu_supports("avx512f");
  return v;
#else
  return false;
#endif
}

std::vector<float> f32_avx2_pack(const float* w, int64_t out, int64_t in) {
  const int64_t nb = (out + 7) / 8;
  std::vector<float> p(static_cast<size_t>(nb * in * 8), 0.0f);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t j = 0; j < 8 && b * 8 + j < out; ++j)
      for (int64_t k = 0; k < in; ++k) p[static_cast<size_t>((b * in + k) * 8 + j)] = w[(b * 8 + j) * in + k];
  return p;
}

#if defined(__x86_64__) && defined(__GNUC__)
namespace {
// MR rows × NR·8 columns over all of K: per k, NR weight vectors and one broadcast per row feed
// MR·NR FMAs. Each accumulator lane is the same chain for any MR/NR, so tiles never change results.
template <int MR, int NR>
__attribute__((target("avx2,fma"), always_inline)) inline void tile(const float* x, int64_t ldx, const float* w,
                                                                    int64_t in, const float* bias, float* y,
                                                                    int64_t ldy, int64_t cols) {
  __m256 acc[MR][NR];  // every loop over it is unrolled: one variable index and GCC keeps it on the stack
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_setzero_ps();
  const int64_t wstride = in * 8;  // floats between two 8-column blocks
  for (int64_t k = 0; k < in; ++k) {
    __m256 wv[NR];
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) wv[j] = _mm256_loadu_ps(w + j * wstride + k * 8);
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256 xv = _mm256_broadcast_ss(x + r * ldx + k);
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_fmadd_ps(xv, wv[j], acc[r][j]);
    }
  }
  alignas(32) float b[NR * 8] = {};
  if (bias)
    for (int64_t j = 0; j < cols; ++j) b[j] = bias[j];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_add_ps(acc[r][j], _mm256_load_ps(b + j * 8));
    if (cols == NR * 8) {
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) _mm256_storeu_ps(y + r * ldy + j * 8, acc[r][j]);
    } else {
      alignas(32) float t[NR * 8];
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) _mm256_store_ps(t + j * 8, acc[r][j]);
      for (int64_t j = 0; j < cols; ++j) y[r * ldy + j] = t[j];
    }
  }
}

template <int NR>
__attribute__((target("avx2,fma"))) void rows_of(const float* x, int64_t ldx, int64_t rows, int64_t in, const float* w,
                                                 const float* bias, float* y, int64_t ldy, int64_t cols) {
  constexpr int MR = 6;  // 12 accumulators + 2 weights + 1 broadcast ≤ 16 registers
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) tile<MR, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols);
  switch (rows - r) {
    case 0: break;
    case 1: tile<1, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols); break;
    case 2: tile<2, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols); break;
    case 3: tile<3, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols); break;
    case 4: tile<4, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols); break;
    default: tile<5, NR>(x + r * ldx, ldx, w, in, bias, y + r * ldy, ldy, cols); break;
  }
}
}  // namespace

void f32_avx2_gemm(const float* x, int64_t ldx, int64_t rows, int64_t in, const float* packed, int64_t out,
                   const float* bias, float* y, int64_t ldy, int64_t panel0, int64_t panel1) {
  const int64_t nb = (out + 7) / 8;
  const int64_t b1 = std::min(nb, panel1 * 2);
  // Row groups of 48 so a group's input rows stay in L2 while a panel's weights (K·64 bytes) sit in L1/L2.
  for (int64_t r0 = 0; r0 < rows; r0 += 48) {
    const int64_t rn = std::min<int64_t>(48, rows - r0);
    for (int64_t b = panel0 * 2; b < b1; b += 2) {
      const int64_t cols = std::min<int64_t>(16, out - b * 8);
      const float* w = packed + b * in * 8;
      const float* bb = bias ? bias + b * 8 : nullptr;
      if (cols > 8) rows_of<2>(x + r0 * ldx, ldx, rn, in, w, bb, y + r0 * ldy + b * 8, ldy, cols);
      else rows_of<1>(x + r0 * ldx, ldx, rn, in, w, bb, y + r0 * ldy + b * 8, ldy, cols);
    }
  }
}
#else
void f32_avx2_gemm(const float*, int64_t, int64_t, int64_t, const float*, int64_t, const float*, float*, int64_t,
                   int64_t, int64_t) {}
#endif

}  // namespace bertcpp::ops::cpu
