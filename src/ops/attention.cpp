// Attention kernels in plain C++ that the compiler vectorizes per ISA (BERTCPP_MULTIVERSION).
// Work unit: one (sequence, head). Its keys are transposed into a thread-local
// Kᵀ [head_dim, keys rounded up to 16] and its values packed, then for every group of 4 query
// rows: scores = Q·Kᵀ (4×64 register tiles, 4×32/4×16 at the end), softmax per row, context =
// P·V (4×64 tiles).
// This file is compiled with -ffp-contract=fast (see src/CMakeLists.txt) so the tiles use FMA
// where the clone's ISA has it; determinism comes from every row taking the same code path.
#include "ops/attention.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "bertcpp/error.h"
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
};

// 16 floats as one value (GCC vector extension): one zmm with AVX-512, two ymm with AVX2, four
// xmm otherwise; a·b + c becomes FMA where the clone's ISA has it.
typedef float v16 __attribute__((vector_size(64)));
[[gnu::always_inline]] inline v16 load16(const float* p) {
  v16 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// out[i][c] = Σ_k a[i][k] · b[k][c] for 4 rows and 16·NV columns, k ascending (b row k at
// b + k·b_stride). Scores are a = Q rows, b = Kᵀ; the context is a = probabilities, b = V. Each
// output element is one sum in a fixed order, so the tile shape never changes a result: wider
// tiles only reuse loads better.
template <int NV>
[[gnu::always_inline]] inline void tile(const float* const a[kRows], const float* b, int64_t b_stride, int64_t n,
                                        float* out, int64_t out_stride) {
  v16 acc[kRows][NV];  // zeroed element by element: "= {}" became a 1 KiB rep stos on the stack per tile
#pragma GCC unroll 4
  for (int i = 0; i < kRows; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = v16{};
  for (int64_t k = 0; k < n; ++k) {
    v16 x[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) x[v] = load16(b + k * b_stride + 16 * v);
#pragma GCC unroll 4
    for (int i = 0; i < kRows; ++i) {
      const float av = a[i][k];
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] += av * x[v];
    }
  }
  for (int i = 0; i < kRows; ++i) std::memcpy(out + i * out_stride, acc[i], sizeof acc[i]);
}

BERTCPP_MULTIVERSION
void run_task(const AttentionShape& shape, const AttentionSequence& s, int64_t head, Scratch& scratch) {
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
  const int64_t rows = s.rows;
  const int64_t groups = (rows + kRows - 1) / kRows;
  scratch.scores.resize(static_cast<size_t>(kRows * kp));
  float* sg = scratch.scores.data();  // one group's scores at a time

  for (int64_t g = 0; g < groups; ++g) {
    // Rows past the sequence's end repeat its last row (same code path; their results are dropped).
    const float* q[kRows];
    int64_t row[kRows];
    for (int64_t i = 0; i < kRows; ++i) {
      row[i] = std::min(g * kRows + i, rows - 1);
      q[i] = Q + row[i] * stride;
    }
    // Each row's keys [lo, hi); the group's span [glo, ghi) and the 16-aligned score columns
    // [jlo, jhi) computed for it (all keys without a window).
    int64_t lo[kRows], hi[kRows];
    for (int64_t i = 0; i < kRows; ++i) {
      lo[i] = s.window < 0 ? 0 : std::clamp<int64_t>(row[i] - s.window, 0, keys - 1);
      hi[i] = s.window < 0 ? keys : std::clamp<int64_t>(row[i] + s.window + 1, lo[i] + 1, keys);
    }
    const int64_t glo = *std::min_element(lo, lo + kRows), ghi = *std::max_element(hi, hi + kRows);
    const int64_t jlo = glo / kCols * kCols, jhi = std::min(kp, (ghi + kCols - 1) / kCols * kCols);
    const int64_t w = jhi - jlo;  // sg holds columns [jlo, jhi) of each row, row stride kp
    int64_t jb = 0;
    for (; jb + 64 <= w; jb += 64) tile<4>(q, kt + jlo + jb, kp, d, sg + jb, kp);
    for (; jb + 32 <= w; jb += 32) tile<2>(q, kt + jlo + jb, kp, d, sg + jb, kp);
    for (; jb < w; jb += 16) tile<1>(q, kt + jlo + jb, kp, d, sg + jb, kp);
    for (int64_t i = 0; i < kRows; ++i) {
      float* x = sg + i * kp + (lo[i] - jlo);
      const int64_t n = hi[i] - lo[i];
      const float* mask = s.mask ? s.mask + lo[i] : nullptr;
      if (s.rel_bias || s.alibi_slopes) {  // scores / divisor + biases, then softmax with the mask (divisor 1 is exact)
        for (int64_t c = 0; c < n; ++c) x[c] /= shape.divisor;
        if (s.rel_bias) {
          const float* rb = s.rel_bias + head * s.rel_bias_head_stride + s.rel_bias_center - row[i] + lo[i];
          for (int64_t c = 0; c < n; ++c) x[c] += rb[c];
        }
        if (s.alibi_slopes) {  // key lo + c is |row - lo - c| positions away
          const float slope = s.alibi_slopes[head];
          const int64_t at = row[i] - lo[i];
          for (int64_t c = 0; c < n; ++c) x[c] -= slope * static_cast<float>(c < at ? at - c : c - at);
        }
        cpu::softmax_row(x, n, 1.0f, mask);
      } else {
        cpu::softmax_row(x, n, shape.divisor, mask);
      }
      // Keys of the span outside this row's window weigh 0 in P·V.
      std::fill(sg + i * kp + (glo - jlo), x, 0.0f);
      std::fill(x + n, sg + i * kp + (ghi - jlo), 0.0f);
    }

    // Context for the group's 4 rows into a [4, dp] tile over the span's keys, then the real rows
    // are copied out.
    float* ctx = scratch.ctx.data();
    const int64_t o = glo - jlo;
    const float* p[kRows] = {sg + o, sg + kp + o, sg + 2 * kp + o, sg + 3 * kp + o};
    const float* vg = vp + glo * dp;
    int64_t c0 = 0;
    for (; c0 + 64 <= dp; c0 += 64) tile<4>(p, vg + c0, dp, ghi - glo, ctx + c0, dp);
    for (; c0 + 32 <= dp; c0 += 32) tile<2>(p, vg + c0, dp, ghi - glo, ctx + c0, dp);  // head_dim 32 (MiniLM)
    for (; c0 < dp; c0 += 16) tile<1>(p, vg + c0, dp, ghi - glo, ctx + c0, dp);
    for (int64_t i = 0; i < kRows && g * kRows + i < rows; ++i)
      std::memcpy(s.ctx + row[i] * shape.ctx_stride + head * d, ctx + i * dp, static_cast<size_t>(d) * sizeof(float));
    if (s.probs) {
      for (int64_t i = 0; i < kRows && g * kRows + i < rows; ++i) {
        float* pr = s.probs + head * s.probs_head_stride + row[i] * s.probs_row_stride;
        std::fill(pr, pr + s.probs_cols, 0.0f);
        std::memcpy(pr + lo[i], sg + i * kp + (lo[i] - jlo), static_cast<size_t>(hi[i] - lo[i]) * sizeof(float));
      }
    }
  }
}

}  // namespace

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
#pragma omp parallel if (n > 1)
  {
    thread_local Scratch scratch;
#pragma omp for schedule(dynamic, 1)
    for (int64_t t = 0; t < n; ++t) {
      const Task& task = tasks[static_cast<size_t>(t)];
      run_task(shape, sequences[static_cast<size_t>(task.seq)], task.head, scratch);
    }
  }
}

}  // namespace bertcpp::ops
