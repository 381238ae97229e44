// Int8 passes of Linear, see int8.h. The per-row kernels are cloned per ISA
// (BERTCPP_MULTIVERSION) with the OpenMP loops outside the clones; no libm in the hot loops.
#include "ops/cpu/int8.h"

#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "ops/cpu/multiversion.h"

namespace bertcpp::ops::cpu {

void int8_quantize_weight(const float* w, int64_t out, int64_t in, const std::vector<float>& smooth, int8_t* q,
                          float* sw) {
  std::vector<float> row(static_cast<size_t>(in));
  for (int64_t c = 0; c < out; ++c) {
    float m = 0.0f;
    for (int64_t k = 0; k < in; ++k) {
      row[k] = smooth.empty() ? w[c * in + k] : w[c * in + k] * smooth[static_cast<size_t>(k)];
      m = std::max(m, std::fabs(row[k]));
    }
    const float scale = m > 0.0f ? m / 127.0f : 1.0f;
    sw[c] = scale;
    for (int64_t k = 0; k < in; ++k)
      q[c * in + k] = static_cast<int8_t>(std::clamp(std::nearbyint(row[k] / scale), -127.0f, 127.0f));
  }
}

std::vector<float> int8_smoothing(const float* w, int64_t out, int64_t in, const Tensor& absmax) {
  std::vector<float> wmax(static_cast<size_t>(in), 0.0f), s(static_cast<size_t>(in), 1.0f);
  for (int64_t c = 0; c < out; ++c)
    for (int64_t k = 0; k < in; ++k) wmax[k] = std::max(wmax[k], std::fabs(w[c * in + k]));
  const float* a = absmax.data<float>();
  for (int64_t k = 0; k < in; ++k) {
    if (!(a[k] > 0.0f) || !(wmax[k] > 0.0f) || !std::isfinite(a[k])) continue;
    s[k] = std::clamp(std::sqrt(a[k] / wmax[k]), 1e-4f, 1e4f);
  }
  return s;
}

namespace {
// Int8 input quantization of one row: v[k] = x[k]·inv_smooth[k] (when given),
// q[k] = round(v[k]·127/max|v|) + bias (bias 128: stored as u8, see int8.h); returns the row scale
// max|v|/127 (0 for an all-zero row). Rounds half away from zero by truncation (no libm), so each
// ISA clone vectorizes it.
BERTCPP_MULTIVERSION
float quantize_row(const float* x, int64_t in, const float* inv_smooth, int32_t bias, int8_t* q) {
  float m = 0.0f, nonfinite = 0.0f;  // nonfinite: Σ (v − v), NaN iff some v is inf or NaN
  if (inv_smooth) {
#pragma omp simd reduction(max : m) reduction(+ : nonfinite)
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv_smooth[k];
      m = std::max(m, v < 0.0f ? -v : v);
      nonfinite += v - v;
    }
  } else {
#pragma omp simd reduction(max : m) reduction(+ : nonfinite)
    for (int64_t k = 0; k < in; ++k) {
      m = std::max(m, x[k] < 0.0f ? -x[k] : x[k]);
      nonfinite += x[k] - x[k];
    }
  }
  if (nonfinite != 0.0f || m == 0.0f) {  // an inf/NaN input makes the row NaN (as f32 would); zeros stay zero
    std::fill(q, q + in, static_cast<int8_t>(static_cast<uint8_t>(bias)));
    return nonfinite != 0.0f ? std::numeric_limits<float>::quiet_NaN() : 0.0f;
  }
  const float inv = 127.0f / m;
  auto* u = reinterpret_cast<uint8_t*>(q);  // the code's bits: two's complement s8, or u8 with bias 128
  if (inv_smooth) {
#pragma omp simd
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv_smooth[k] * inv;
      u[k] = static_cast<uint8_t>(static_cast<int32_t>(v + (v < 0.0f ? -0.5f : 0.5f)) + bias);
    }
  } else {
#pragma omp simd
    for (int64_t k = 0; k < in; ++k) {
      const float v = x[k] * inv;
      u[k] = static_cast<uint8_t>(static_cast<int32_t>(v + (v < 0.0f ? -0.5f : 0.5f)) + bias);
    }
  }
  return m / 127.0f;
}

// Int8 epilogue of one row in one pass: y[c] = (float(acc[c] − comp[c])·sw[c])·sx + b[c], then
// + a[i]·w[i][c] for each f32 channel i in order (the order of the separate passes it replaced).
// N f32 channels, N = 0..4, unrolled; -1: any count. Inlined into each ISA clone of epilogue_row.
template <int N, bool Bias>
[[gnu::always_inline]] inline void epilogue_body(const int32_t* acc, int64_t n, const int32_t* comp, const float* sw,
                                                 float sx, const float* b, const float* a, const float* w,
                                                 int64_t count, float* y) {
  const float* w0 = w;
  const float* w1 = w + n;
  const float* w2 = w + 2 * n;
  const float* w3 = w + 3 * n;
#pragma omp simd
  for (int64_t c = 0; c < n; ++c) {
    float v = static_cast<float>(acc[c] - comp[c]) * sw[c] * sx;
    if constexpr (Bias) v += b[c];
    if constexpr (N > 0) v += a[0] * w0[c];
    if constexpr (N > 1) v += a[1] * w1[c];
    if constexpr (N > 2) v += a[2] * w2[c];
    if constexpr (N > 3) v += a[3] * w3[c];
    if constexpr (N < 0)
      for (int64_t i = 0; i < count; ++i) v += a[i] * w[i * n + c];
    y[c] = v;
  }
}

template <bool Bias>
[[gnu::always_inline]] inline void epilogue_count(const int32_t* acc, int64_t n, const int32_t* comp, const float* sw,
                                                  float sx, const float* b, const float* a, const float* w,
                                                  int64_t count, float* y) {
  switch (count) {
    case 0: return epilogue_body<0, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
    case 1: return epilogue_body<1, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
    case 2: return epilogue_body<2, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
    case 3: return epilogue_body<3, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
    case 4: return epilogue_body<4, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
    default: return epilogue_body<-1, Bias>(acc, n, comp, sw, sx, b, a, w, count, y);
  }
}

BERTCPP_MULTIVERSION
void epilogue_row(const int32_t* acc, int64_t n, const int32_t* comp, const float* sw, float sx, const float* b,
                  const float* a, const float* w, int64_t count, float* y) {
  if (b) epilogue_count<true>(acc, n, comp, sw, sx, b, a, w, count, y);
  else epilogue_count<false>(acc, n, comp, sw, sx, b, a, w, count, y);
}

}  // namespace

void int8_quantize_rows(const float* x, int64_t rows, int64_t in, int64_t stride, const float* inv_smooth,
                        const F32Channels& f, bool u8, int8_t* q, float* side) {
  const int64_t ss = 1 + f.count;
#pragma omp parallel for schedule(static) if (rows * in >= 16384 && !omp_in_parallel())
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * stride;
    side[r * ss] = quantize_row(xr, in, inv_smooth, u8 ? 128 : 0, q + r * in);
    for (int64_t i = 0; i < f.count; ++i) side[r * ss + 1 + i] = xr[f.channels[i]];
  }
}

void int8_epilogue(const int32_t* acc, int64_t rows, int64_t n, const int32_t* comp, const float* sw, const float* side,
                   const F32Channels& f, const float* bias, Activation act, float* y, int64_t y_stride) {
  const int64_t ss = 1 + f.count;
  for (int64_t r = 0; r < rows; ++r) {
    float* yr = y + r * y_stride;
    epilogue_row(acc + r * n, n, comp, sw, side[r * ss], bias, side + r * ss + 1, f.weight, f.count, yr);
    activate(yr, n, act);
  }
}

bool int8_avx2_exact() {
#if defined(__x86_64__) && defined(__GNUC__)
  static const bool v = __builtin_cpu_supports("avx2") && !__builtin_cpu_supports("avx512vnni");
  return v;
#else
  return false;
#endif
}

std::vector<int16_t> int8_avx2_pack(const int8_t* q, int64_t out, int64_t in) {
  const int64_t nb = (out + 7) / 8, k2 = (in + 1) / 2;
  std::vector<int16_t> p(static_cast<size_t>(nb * k2 * 16), 0);
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t g = 0; g < k2; ++g)
      for (int64_t j = 0; j < 8 && b * 8 + j < out; ++j)
        for (int64_t i = 0; i < 2 && g * 2 + i < in; ++i)
          p[static_cast<size_t>(((b * k2 + g) * 8 + j) * 2 + i)] = q[(b * 8 + j) * in + g * 2 + i];
  return p;
}

#if defined(__x86_64__) && defined(__GNUC__)
namespace {
// MR rows × NR·8 columns over all of K: per 2 input channels, NR weight vectors (8 columns × 2 s16)
// and one broadcast of each row's 2 s16 codes feed MR·NR vpmaddwd (exact s32 pair sums) + vpaddd.
template <int MR, int NR>
__attribute__((target("avx2"), always_inline)) inline void avx2_tile(const int32_t* a, int64_t lda, const int16_t* w,
                                                                    int64_t k2, int32_t* c, int64_t ldc, int64_t cols) {
  __m256i acc[MR][NR];  // every loop over it is unrolled: one variable index and GCC keeps it on the stack
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_setzero_si256();
  const int64_t wstride = k2 * 16;  // s16 between two 8-column blocks
  for (int64_t g = 0; g < k2; ++g) {
    __m256i wv[NR];
#pragma GCC unroll 2
    for (int j = 0; j < NR; ++j) wv[j] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + j * wstride + g * 16));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      const __m256i av = _mm256_set1_epi32(a[r * lda + g]);
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(av, wv[j]));
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r) {
    if (cols == NR * 8) {
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + r * ldc + j * 8), acc[r][j]);
    } else {
      alignas(32) int32_t t[NR * 8];
#pragma GCC unroll 2
      for (int j = 0; j < NR; ++j) _mm256_store_si256(reinterpret_cast<__m256i*>(t + j * 8), acc[r][j]);
      for (int64_t j = 0; j < cols; ++j) c[r * ldc + j] = t[j];
    }
  }
}

template <int NR>
__attribute__((target("avx2"))) void avx2_rows(const int32_t* a, int64_t rows, int64_t k2, const int16_t* w, int32_t* c,
                                               int64_t ldc, int64_t cols) {
  constexpr int MR = 6;  // 12 accumulators + 2 weights + 1 broadcast ≤ 16 registers
  int64_t r = 0;
  for (; r + MR <= rows; r += MR) avx2_tile<MR, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols);
  switch (rows - r) {
    case 0: break;
    case 1: avx2_tile<1, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols); break;
    case 2: avx2_tile<2, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols); break;
    case 3: avx2_tile<3, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols); break;
    case 4: avx2_tile<4, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols); break;
    default: avx2_tile<5, NR>(a + r * k2, k2, w, k2, c + r * ldc, ldc, cols); break;
  }
}
}  // namespace

void int8_avx2_gemm(const int8_t* a, int64_t rows, int64_t in, const int16_t* packed, int64_t out, int32_t* acc,
                    int64_t panel0, int64_t panel1) {
  const int64_t nb = (out + 7) / 8, k2 = (in + 1) / 2;
  // The rows as s16 pairs (one int32 per 2 input channels, K padded with a zero), per thread.
  thread_local std::vector<int32_t> pairs;
  if (pairs.size() < static_cast<size_t>(rows * k2)) pairs.resize(static_cast<size_t>(rows * k2));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t g = 0; g < k2; ++g) {
      const int32_t lo = a[r * in + 2 * g], hi = 2 * g + 1 < in ? a[r * in + 2 * g + 1] : 0;
      pairs[static_cast<size_t>(r * k2 + g)] =
          static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(lo)) | (static_cast<uint32_t>(hi) << 16));
    }
  const int64_t b1 = panel1 < 0 ? nb : std::min(nb, panel1 * 2);
  // Column panels of 16 (2 blocks of 8): a panel's weights (K·64 bytes) stay in L1/L2 over all rows.
  for (int64_t b = panel0 * 2; b < b1; b += 2) {
    const int64_t cols = std::min<int64_t>(16, out - b * 8);
    const int16_t* w = packed + b * k2 * 16;
    if (cols > 8) avx2_rows<2>(pairs.data(), rows, k2, w, acc + b * 8, out, cols);
    else avx2_rows<1>(pairs.data(), rows, k2, w, acc + b * 8, out, cols);
  }
}
#else
void int8_avx2_gemm(const int8_t*, int64_t, int64_t, const int16_t*, int64_t, int32_t*, int64_t, int64_t) {}
#endif

}  // namespace bertcpp::ops::cpu
