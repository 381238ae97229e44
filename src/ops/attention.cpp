// Attention kernels in plain C++ that the compiler vectorizes per ISA (run_task_v4 / _v3 / _default).
// Work unit: one (sequence, head). Its keys are transposed into a thread-local
// Kᵀ [head_dim, keys rounded up to 16] and its values packed, then for every group of 4 query
// rows: scores = Q·Kᵀ (4×64 register tiles, 4×32/4×16 at the end), softmax per row, context =
// P·V (4×64 tiles). AttentionShape::bf16 runs the same loop with both matmuls on bf16 pair words
// (run_task_bf16, AVX-512 BF16 only, chosen at run time).
// This file is compiled with -ffp-contract=fast (see src/CMakeLists.txt) so the tiles use FMA
// where the clone's ISA has it; determinism comes from every row taking the same code path.
#include "ops/attention.h"

#include <omp.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bertcpp/error.h"
#if defined(__x86_64__)
#include <immintrin.h>
#endif
#include "ops/cpu/multiversion.h"
#include "ops/cpu/vec_math.h"

namespace bertcpp::ops {

namespace {

constexpr int64_t kRows = 4;       // query rows per register tile
constexpr int64_t kCols = 16;      // key (or value) columns per register tile

struct Task {
  int64_t seq, head;
};

struct Scratch {
  std::vector<float> kt, v, scores, ctx;
  std::vector<uint32_t> ktw, vw, qw, pw;  // the bf16 kernel's pair words
};

// L floats as one value (GCC vector extension), L the clone's register width: 16 = one zmm
// (AVX-512), 8 = one ymm (AVX2). A 16-float value on AVX2 has no register mode: GCC kept every
// one on the stack (most of the f32 forward's time on an AVX2-only EPYC). a·b + c becomes FMA where
// the clone's ISA has it.
typedef float v16 __attribute__((vector_size(64)));
typedef float v8 __attribute__((vector_size(32)));
template <int L> struct Vec { using type = v16; };
template <> struct Vec<8> { using type = v8; };
template <typename V>
[[gnu::always_inline]] inline V load_vec(const float* p) {
  V v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// out[i][c] = Σ_k a[i][k] · b[k][c] for 4 rows and 16·NV columns, k ascending (b row k at
// b + k·b_stride). Scores are a = Q rows, b = Kᵀ; the context is a = probabilities, b = V. Each
// output element is one sum in a fixed order, so the tile shape and register width never change a
// result: wider tiles only reuse loads better.
template <int NV, int L>
[[gnu::always_inline]] inline void tile(const float* const a[kRows], const float* b, int64_t b_stride, int64_t n,
                                        float* out, int64_t out_stride) {
  using V = typename Vec<L>::type;
  constexpr int P = 16 * NV / L;  // registers per row
  V acc[kRows][P];  // zeroed element by element: "= {}" became a 1 KiB rep stos on the stack per tile
#pragma GCC unroll 8
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 8
    for (int v = 0; v < P; ++v) acc[i][v] = V{};
  for (int64_t k = 0; k < n; ++k) {
    V x[P];
#pragma GCC unroll 8
    for (int v = 0; v < P; ++v) x[v] = load_vec<V>(b + k * b_stride + L * v);
#pragma GCC unroll 4
    for (int i = 0; i < kRows; ++i) {
      const float av = a[i][k];
#pragma GCC unroll 8
      for (int v = 0; v < P; ++v) acc[i][v] += av * x[v];
    }
  }
  for (int i = 0; i < kRows; ++i) std::memcpy(out + i * out_stride, acc[i], sizeof acc[i]);
}

// One group of 4 query rows: the rows (past the sequence's end the last row repeats: same code
// path, results dropped), each row's keys [lo, hi), the group's span [glo, ghi) and the 16-aligned
// score columns [jlo, jhi) computed for it (all keys without a window).
struct Group {
  int64_t row[kRows], lo[kRows], hi[kRows];
  int64_t glo, ghi, jlo, jhi;
};
[[gnu::always_inline]] inline Group group_of(const AttentionSequence& s, int64_t g, int64_t kp) {
  Group r;
  const int64_t keys = s.keys;
  for (int64_t i = 0; i < kRows; ++i) {
    r.row[i] = std::min(g * kRows + i, s.rows - 1);
    r.lo[i] = s.window < 0 ? 0 : std::clamp<int64_t>(r.row[i] - s.window, 0, keys - 1);
    r.hi[i] = s.window < 0 ? keys : std::clamp<int64_t>(r.row[i] + s.window + 1, r.lo[i] + 1, keys);
  }
  r.glo = *std::min_element(r.lo, r.lo + kRows);
  r.ghi = *std::max_element(r.hi, r.hi + kRows);
  r.jlo = r.glo / kCols * kCols;
  r.jhi = std::min(kp, (r.ghi + kCols - 1) / kCols * kCols);
  return r;
}

// Softmax of the group's 4 score rows in sg (columns [jlo, jhi), row stride kp) with the biases and
// the mask; span columns outside a row's window are set to 0 (they weigh 0 in P·V).
[[gnu::always_inline]] inline void softmax_group(const AttentionShape& shape, const AttentionSequence& s, int64_t head,
                                                 const Group& gr, float* sg, int64_t kp) {
  for (int64_t i = 0; i < kRows; ++i) {
    float* x = sg + i * kp + (gr.lo[i] - gr.jlo);
    const int64_t n = gr.hi[i] - gr.lo[i];
    const float* mask = s.mask ? s.mask + gr.lo[i] : nullptr;
    if (s.rel_bias || s.alibi_slopes) {  // scores / divisor + biases, then softmax with the mask (divisor 1 is exact)
      for (int64_t c = 0; c < n; ++c) x[c] /= shape.divisor;
      if (s.rel_bias) {
        const float* rb = s.rel_bias + head * s.rel_bias_head_stride + s.rel_bias_center - gr.row[i] + gr.lo[i];
        for (int64_t c = 0; c < n; ++c) x[c] += rb[c];
      }
      if (s.alibi_slopes) {  // key lo + c is |row - lo - c| positions away
        const float slope = s.alibi_slopes[head];
        const int64_t at = gr.row[i] - gr.lo[i];
        for (int64_t c = 0; c < n; ++c) x[c] -= slope * static_cast<float>(c < at ? at - c : c - at);
      }
      cpu::softmax_row(x, n, 1.0f, mask);
    } else {
      cpu::softmax_row(x, n, shape.divisor, mask);
    }
    std::fill(sg + i * kp + (gr.glo - gr.jlo), x, 0.0f);
    std::fill(x + n, sg + i * kp + (gr.ghi - gr.jlo), 0.0f);
  }
}

// The group's real context rows from the [4, dp] tile, and its probabilities when asked.
[[gnu::always_inline]] inline void write_group(const AttentionShape& shape, const AttentionSequence& s, int64_t head,
                                               int64_t g, const Group& gr, const float* ctx, int64_t dp,
                                               const float* sg, int64_t kp) {
  const int64_t d = shape.head_dim;
  for (int64_t i = 0; i < kRows && g * kRows + i < s.rows; ++i)
    std::memcpy(s.ctx + gr.row[i] * shape.ctx_stride + head * d, ctx + i * dp, static_cast<size_t>(d) * sizeof(float));
  if (s.probs) {
    for (int64_t i = 0; i < kRows && g * kRows + i < s.rows; ++i) {
      float* pr = s.probs + head * s.probs_head_stride + gr.row[i] * s.probs_row_stride;
      std::fill(pr, pr + s.probs_cols, 0.0f);
      std::memcpy(pr + gr.lo[i], sg + i * kp + (gr.lo[i] - gr.jlo),
                  static_cast<size_t>(gr.hi[i] - gr.lo[i]) * sizeof(float));
    }
  }
}

// The f32 kernel with L-float registers; wider tiles only where 32 registers hold them (AVX-512).
template <int L>
[[gnu::always_inline]] inline void run_task_body(const AttentionShape& shape, const AttentionSequence& s, int64_t head,
                                                 Scratch& scratch) {
  const int64_t d = shape.head_dim, H = shape.heads * d, stride = shape.qkv_stride;
  const int64_t keys = s.keys, kp = (keys + kCols - 1) / kCols * kCols;
  const float* Q = s.qkv + head * d;
  const float* K = s.qkv + H + head * d;
  const float* V = s.qkv + 2 * H + head * d;

  // Kᵀ [d, kp], zero beyond `keys` (only the padding is cleared: every other element is written).
  if (scratch.kt.size() < static_cast<size_t>(d * kp)) scratch.kt.resize(static_cast<size_t>(d * kp));
  float* kt = scratch.kt.data();
  for (int64_t c = 0; c < d; ++c) std::fill(kt + c * kp + keys, kt + (c + 1) * kp, 0.0f);
  for (int64_t j0 = 0; j0 < keys; j0 += kCols) {
    const int64_t jn = std::min(kCols, keys - j0);
    for (int64_t c = 0; c < d; ++c)
      for (int64_t j = 0; j < jn; ++j) kt[c * kp + j0 + j] = K[(j0 + j) * stride + c];
  }
  // V [keys, dp], dp = head_dim rounded up to 16, zero-padded columns.
  const int64_t dp = (d + kCols - 1) / kCols * kCols;
  if (scratch.v.size() < static_cast<size_t>(keys * dp)) scratch.v.resize(static_cast<size_t>(keys * dp));
  float* vp = scratch.v.data();
  for (int64_t j = 0; j < keys; ++j) {
    std::memcpy(vp + j * dp, V + j * stride, static_cast<size_t>(d) * sizeof(float));
    std::fill(vp + j * dp + d, vp + (j + 1) * dp, 0.0f);
  }
  scratch.ctx.resize(static_cast<size_t>(kRows * dp));
  const int64_t groups = (s.rows + kRows - 1) / kRows;
  scratch.scores.resize(static_cast<size_t>(kRows * kp));
  float* sg = scratch.scores.data();  // one group's scores at a time

  for (int64_t g = 0; g < groups; ++g) {
    const Group gr = group_of(s, g, kp);
    const float* q[kRows];
    for (int64_t i = 0; i < kRows; ++i) q[i] = Q + gr.row[i] * stride;
    const int64_t w = gr.jhi - gr.jlo;  // sg holds columns [jlo, jhi) of each row, row stride kp
    int64_t jb = 0;
    if constexpr (L == 16) {
      for (; jb + 64 <= w; jb += 64) tile<4, L>(q, kt + gr.jlo + jb, kp, d, sg + jb, kp);
      for (; jb + 32 <= w; jb += 32) tile<2, L>(q, kt + gr.jlo + jb, kp, d, sg + jb, kp);
    }
    for (; jb < w; jb += 16) tile<1, L>(q, kt + gr.jlo + jb, kp, d, sg + jb, kp);
    softmax_group(shape, s, head, gr, sg, kp);

    // Context for the group's 4 rows into a [4, dp] tile over the span's keys.
    float* ctx = scratch.ctx.data();
    const int64_t o = gr.glo - gr.jlo;
    const float* p[kRows] = {sg + o, sg + kp + o, sg + 2 * kp + o, sg + 3 * kp + o};
    const float* vg = vp + gr.glo * dp;
    const int64_t n = gr.ghi - gr.glo;
    int64_t c0 = 0;
    if constexpr (L == 16) {
      for (; c0 + 64 <= dp; c0 += 64) tile<4, L>(p, vg + c0, dp, n, ctx + c0, dp);
      for (; c0 + 32 <= dp; c0 += 32) tile<2, L>(p, vg + c0, dp, n, ctx + c0, dp);  // head_dim 32 (MiniLM)
    }
    for (; c0 < dp; c0 += 16) tile<1, L>(p, vg + c0, dp, n, ctx + c0, dp);
    write_group(shape, s, head, g, gr, ctx, dp, sg, kp);
  }
}

// The f32 kernel per ISA, chosen at run time as BERTCPP_MULTIVERSION's clones are (each inlines
// run_task_body for its target).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target("arch=x86-64-v4"))) void run_task_v4(const AttentionShape& shape, const AttentionSequence& s,
                                                             int64_t head, Scratch& scratch) {
  run_task_body<16>(shape, s, head, scratch);
}
__attribute__((target("arch=x86-64-v3"))) void run_task_v3(const AttentionShape& shape, const AttentionSequence& s,
                                                             int64_t head, Scratch& scratch) {
  run_task_body<8>(shape, s, head, scratch);
}
#endif
void run_task_default(const AttentionShape& shape, const AttentionSequence& s, int64_t head, Scratch& scratch) {
  run_task_body<16>(shape, s, head, scratch);
}
void run_task(const AttentionShape& shape, const AttentionSequence& s, int64_t head, Scratch& scratch) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const int level = __builtin_cpu_supports("x86-64-v4") ? 4 : __builtin_cpu_supports("x86-64-v3") ? 3 : 0;
  if (level == 4) return run_task_v4(shape, s, head, scratch);
  if (level == 3) return run_task_v3(shape, s, head, scratch);
#endif
  run_task_default(shape, s, head, scratch);
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define BERTCPP_HAVE_BF16_ATTENTION 1
#define BERTCPP_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16")))

// f32 → bf16 with vcvtne2ps2bf16 / vcvtneps2bf16 (round to nearest even). Pair words: two bf16 in
// one 32-bit word, the even element in the low half, the layout vdpbf16ps multiplies.
// out[0, (n+1)/2) = pair words of r[0, n) (a zero pads an odd n).
BERTCPP_BF16_TARGET [[gnu::always_inline]] inline void row_words(const float* r, int64_t n, uint32_t* out) {
  for (int64_t c = 0; c < n; c += 32) {
    const int64_t m = n - c;
    const __mmask16 m0 = m >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << m) - 1);
    const __mmask16 m1 = m >= 32 ? __mmask16(0xFFFF) : m <= 16 ? __mmask16(0) : __mmask16((1u << (m - 16)) - 1);
    const int64_t words = std::min<int64_t>(16, (m + 1) / 2);
    const __m512bh w = _mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(m1, r + c + 16), _mm512_maskz_loadu_ps(m0, r + c));
    _mm512_mask_storeu_epi32(out + c / 2, __mmask16((1u << words) - 1), (__m512i)w);
  }
}
// out[0, n) = words (a[c], b[c]) (b nullable: zeros).
BERTCPP_BF16_TARGET [[gnu::always_inline]] inline void interleave_words(const float* a, const float* b, int64_t n,
                                                                       uint32_t* out) {
  for (int64_t c = 0; c < n; c += 16) {
    const __mmask16 m = n - c >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << (n - c)) - 1);
    // maskz forms: the plain ones' _mm512_undefined_epi32 trips GCC 12's -Wmaybe-uninitialized.
    const __m512i lo = _mm512_maskz_cvtepu16_epi32(0xFFFF, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, a + c)));
    const __m512i hi = b ? _mm512_maskz_cvtepu16_epi32(0xFFFF, (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, b + c)))
                         : _mm512_setzero_si512();
    _mm512_mask_storeu_epi32(out + c, m, _mm512_or_si512(lo, _mm512_maskz_slli_epi32(0xFFFF, hi, 16)));
  }
}

// out[i][c] = Σ_k pair(a[i], k) · pair(b + k·b_stride, c) for 4 rows and 16·NV columns: each
// vdpbf16ps adds both products of a pair to the f32 sum, k ascending (same fixed order for every row).
template <int NV>
BERTCPP_BF16_TARGET [[gnu::always_inline]] inline void tile_bf16(const uint32_t* const a[kRows], const uint32_t* b,
                                                                  int64_t b_stride, int64_t n, float* out,
                                                                  int64_t out_stride) {
  __m512 acc[kRows][NV];
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_setzero_ps();
  for (int64_t k = 0; k < n; ++k) {
    __m512bh x[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) x[v] = (__m512bh)_mm512_loadu_si512(b + k * b_stride + 16 * v);
#pragma GCC unroll 4
    for (int i = 0; i < kRows; ++i) {
      const __m512bh av = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[i][k]));
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], av, x[v]);
    }
  }
  for (int i = 0; i < kRows; ++i)
    for (int v = 0; v < NV; ++v) _mm512_storeu_ps(out + i * out_stride + 16 * v, acc[i][v]);
}

// run_task with bf16 inputs to both matmuls. Kᵀ as pair words [head_dim/2, kp] (word (c, j) =
// K[j][2c], K[j][2c+1]), V as pair words [keys/2, dp] (word (j, c) = V[2j][c], V[2j+1][c]), Q and the
// probabilities as pair words per row; odd sizes are padded with zeros.
BERTCPP_BF16_TARGET
void run_task_bf16(const AttentionShape& shape, const AttentionSequence& s, int64_t head, Scratch& scratch) {
  const int64_t d = shape.head_dim, H = shape.heads * d, stride = shape.qkv_stride;
  const int64_t dh = (d + 1) / 2;  // Q/K pairs per row
  const int64_t keys = s.keys, kp = (keys + kCols - 1) / kCols * kCols, kh = (keys + 1) / 2;
  const int64_t dp = (d + kCols - 1) / kCols * kCols;
  const float* Q = s.qkv + head * d;
  const float* K = s.qkv + H + head * d;
  const float* V = s.qkv + 2 * H + head * d;

  // K's rows as pair words [keys, dh], then transposed word by word into Kᵀ [dh, kp].
  if (scratch.ktw.size() < static_cast<size_t>(dh * (kp + keys))) scratch.ktw.resize(static_cast<size_t>(dh * (kp + keys)));
  uint32_t* kt = scratch.ktw.data();
  uint32_t* kw = kt + dh * kp;
  for (int64_t j = 0; j < keys; ++j) row_words(K + j * stride, d, kw + j * dh);
  for (int64_t c = 0; c < dh; ++c) std::fill(kt + c * kp + keys, kt + (c + 1) * kp, 0u);
  for (int64_t j0 = 0; j0 < keys; j0 += kCols) {
    const int64_t jn = std::min(kCols, keys - j0);
    for (int64_t c = 0; c < dh; ++c)
      for (int64_t j = 0; j < jn; ++j) kt[c * kp + j0 + j] = kw[(j0 + j) * dh + c];
  }
  if (scratch.vw.size() < static_cast<size_t>(kh * dp)) scratch.vw.resize(static_cast<size_t>(kh * dp));
  uint32_t* vw = scratch.vw.data();
  for (int64_t j = 0; j < kh; ++j) {
    const float* v0 = V + 2 * j * stride;
    const float* v1 = 2 * j + 1 < keys ? v0 + stride : nullptr;
    uint32_t* o = vw + j * dp;
    interleave_words(v0, v1, d, o);
    std::fill(o + d, o + dp, 0u);
  }
  scratch.ctx.resize(static_cast<size_t>(kRows * dp));
  scratch.scores.resize(static_cast<size_t>(kRows * kp));
  scratch.qw.resize(static_cast<size_t>(kRows * dh));
  scratch.pw.resize(static_cast<size_t>(kRows * (kh + 1)));
  float* sg = scratch.scores.data();
  const int64_t groups = (s.rows + kRows - 1) / kRows;

  for (int64_t g = 0; g < groups; ++g) {
    const Group gr = group_of(s, g, kp);
    const uint32_t* q[kRows];
    for (int64_t i = 0; i < kRows; ++i) {
      uint32_t* qi = scratch.qw.data() + i * dh;
      row_words(Q + gr.row[i] * stride, d, qi);
      q[i] = qi;
    }
    const int64_t w = gr.jhi - gr.jlo;
    int64_t jb = 0;
    for (; jb + 64 <= w; jb += 64) tile_bf16<4>(q, kt + gr.jlo + jb, kp, dh, sg + jb, kp);
    for (; jb + 32 <= w; jb += 32) tile_bf16<2>(q, kt + gr.jlo + jb, kp, dh, sg + jb, kp);
    for (; jb < w; jb += 16) tile_bf16<1>(q, kt + gr.jlo + jb, kp, dh, sg + jb, kp);
    softmax_group(shape, s, head, gr, sg, kp);

    // Probabilities of the key pairs [pl, ph) covering the span (0 outside it), then P·V.
    const int64_t pl = gr.glo / 2 * 2, ph = (gr.ghi + 1) / 2 * 2, np = (ph - pl) / 2;
    const uint32_t* p[kRows];
    for (int64_t i = 0; i < kRows; ++i) {
      uint32_t* pi = scratch.pw.data() + i * (kh + 1);
      float* x = sg + i * kp - gr.jlo;  // x[j] = probability of key j, j in [jlo, jhi) ⊇ [pl, ph)
      if (pl < gr.glo) x[pl] = 0.0f;
      if (ph > gr.ghi) x[gr.ghi] = 0.0f;
      row_words(x + pl, ph - pl, pi);
      p[i] = pi;
    }
    float* ctx = scratch.ctx.data();
    const uint32_t* vg = vw + (pl / 2) * dp;
    int64_t c0 = 0;
    for (; c0 + 64 <= dp; c0 += 64) tile_bf16<4>(p, vg + c0, dp, np, ctx + c0, dp);
    for (; c0 + 32 <= dp; c0 += 32) tile_bf16<2>(p, vg + c0, dp, np, ctx + c0, dp);
    for (; c0 < dp; c0 += 16) tile_bf16<1>(p, vg + c0, dp, np, ctx + c0, dp);
    write_group(shape, s, head, g, gr, ctx, dp, sg, kp);
  }
}
#endif

}  // namespace

bool attention_bf16_supported() {
#ifdef BERTCPP_HAVE_BF16_ATTENTION
  static const bool yes = __builtin_cpu_supports("avx512bf16") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512vl");
  return yes;
#else
  return false;
#endif
}

void attention(const AttentionShape& shape, std::span<const AttentionSequence> sequences) {
  if (shape.heads <= 0 || shape.head_dim <= 0 || shape.qkv_stride < 3 * shape.heads * shape.head_dim ||
      shape.ctx_stride < shape.heads * shape.head_dim)
    throw invalid_argument("attention: bad shape (heads " + std::to_string(shape.heads) + ", head_dim " +
                           std::to_string(shape.head_dim) + ", qkv_stride " + std::to_string(shape.qkv_stride) +
                           ", ctx_stride " + std::to_string(shape.ctx_stride) + ")");
  std::vector<Task> tasks;
  for (size_t i = 0; i < sequences.size(); ++i) {
    const AttentionSequence& s = sequences[i];
    if (s.rows < 0 || s.keys <= 0) {
      if (s.rows == 0) continue;
      throw invalid_argument("attention: sequence " + std::to_string(i) + " has " + std::to_string(s.rows) +
                             " rows and " + std::to_string(s.keys) + " keys");
    }
    for (int64_t h = 0; h < shape.heads; ++h) tasks.push_back({static_cast<int64_t>(i), h});
  }
  const int64_t n = static_cast<int64_t>(tasks.size());
  [[maybe_unused]] const bool bf16 = shape.bf16 && attention_bf16_supported();
#pragma omp parallel if (n > 1 && !omp_in_parallel())  // inside a text-parallel encoder task: that thread only
  {
    thread_local Scratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n; ++t) {
      const Task& task = tasks[static_cast<size_t>(t)];
#ifdef BERTCPP_HAVE_BF16_ATTENTION
      if (bf16) {
        run_task_bf16(shape, sequences[static_cast<size_t>(task.seq)], task.head, scratch);
        continue;
      }
#endif
      run_task(shape, sequences[static_cast<size_t>(task.seq)], task.head, scratch);
    }
  }
}

}  // namespace bertcpp::ops
