// The kernels of the pre-norm rotary encoders (ModernBERT) against naive double references:
// rotary embeddings, ALiBi, GLU, LayerNorm without bias, sliding-window and long-sequence attention.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "bertcpp/error.h"
#include "ops/activation.h"
#include "ops/alibi.h"
#include "ops/attention.h"
#include "ops/glu.h"
#include "ops/layer_norm.h"
#include "ops/rotary.h"
#include "ops/threads.h"
#include "attention_reference.h"
#include "support/compare.h"
#include "support/random.h"

using namespace bertcpp;
using bertcpp::testing::random_vec;

namespace {

using bertcpp::testing::max_abs_diff;
using bertcpp::testing::NaiveAttention;

TEST(Rotary, MatchesRotateHalfInDouble) {
  for (const int64_t d : {8, 64}) {
    for (const double theta : {10000.0, 160000.0}) {
      const int64_t rows = 300, vectors = 6, stride = vectors * d + 5;  // Q and K of 3 heads, row padding
      const auto table = ops::rotary_table(rows + 7, d, theta);
      auto x = random_vec(static_cast<size_t>(rows * stride), 3, -2.0f, 2.0f);
      const auto x0 = x;
      ops::rotary(table, x.data(), rows, stride, vectors, /*first_position=*/7);
      std::vector<double> ref(x.size());
      for (size_t i = 0; i < x.size(); ++i) ref[i] = x0[i];
      const int64_t half = d / 2;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < vectors; ++v)
          for (int64_t i = 0; i < half; ++i) {
            const double f = double(r + 7) / std::pow(theta, double(2 * i) / double(d));
            const size_t a = static_cast<size_t>(r * stride + v * d + i), b = a + static_cast<size_t>(half);
            ref[a] = x0[a] * std::cos(f) - x0[b] * std::sin(f);
            ref[b] = x0[b] * std::cos(f) + x0[a] * std::sin(f);
          }
      // float32 frequencies at position ~300: |Δangle| ≲ 300·2⁻²⁴ rad.
      EXPECT_LT(max_abs_diff(x, ref), 1e-4) << d << " " << theta;
      for (int64_t r = 0; r < rows; ++r)  // the padding columns are untouched
        for (int64_t c = vectors * d; c < stride; ++c)
          EXPECT_EQ(x[static_cast<size_t>(r * stride + c)], x0[static_cast<size_t>(r * stride + c)]);
    }
  }
}

TEST(Rotary, PositionZeroIsIdentityAndBadArgumentsThrow) {
  const auto table = ops::rotary_table(4, 16, 10000.0);
  auto x = random_vec(32, 4);
  const auto x0 = x;
  ops::rotary(table, x.data(), 1, 32, 2);
  EXPECT_EQ(x, x0);
  EXPECT_THROW(ops::rotary_table(4, 7, 10000.0), Error);
  EXPECT_THROW(ops::rotary_table(4, 8, 0.0), Error);
  EXPECT_THROW(ops::rotary(table, x.data(), 2, 16, 1, 3), Error);  // positions 3, 4 outside a 4-row table
}

// Interleaved pairs (GPT-J) on the first `d` of each head's `hd` columns (NomicBERT's rotary_emb_fraction).
TEST(Rotary, InterleavedAndPartialMatchDoubleReference) {
  for (const bool interleaved : {false, true}) {
    const int64_t d = 8, hd = 16, rows = 200, vectors = 4, stride = vectors * hd + 3;
    const double theta = 1000.0;
    const auto table = ops::rotary_table(rows, d, theta, interleaved);
    auto x = random_vec(static_cast<size_t>(rows * stride), 5, -2.0f, 2.0f);
    const auto x0 = x;
    ops::rotary(table, x.data(), rows, stride, vectors, 0, /*vector_stride=*/hd);
    std::vector<double> ref(x0.begin(), x0.end());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v)
        for (int64_t i = 0; i < d / 2; ++i) {
          const double f = double(r) / std::pow(theta, double(2 * i) / double(d));
          const int64_t base = r * stride + v * hd;
          const size_t a = static_cast<size_t>(base + (interleaved ? 2 * i : i));
          const size_t b = static_cast<size_t>(base + (interleaved ? 2 * i + 1 : i + d / 2));
          ref[a] = x0[a] * std::cos(f) - x0[b] * std::sin(f);
          ref[b] = x0[b] * std::cos(f) + x0[a] * std::sin(f);
        }
    EXPECT_LT(max_abs_diff(x, ref), 1e-4) << interleaved;  // includes the untouched columns d..hd (exact)
  }
  const auto table = ops::rotary_table(4, 8, 10000.0);
  std::vector<float> x(64);
  EXPECT_THROW(ops::rotary(table, x.data(), 1, 16, 2, 0, /*vector_stride=*/4), Error);
}

TEST(Rotary, DynamicNtkTheta) {
  EXPECT_EQ(ops::dynamic_ntk_theta(1000.0, 64, 2.0, 2048, 2048), 1000.0);  // up to the trained length: unscaled
  // 1000 · (2·4096/2048 − 1)^(64/62)
  EXPECT_DOUBLE_EQ(ops::dynamic_ntk_theta(1000.0, 64, 2.0, 4096, 2048), 1000.0 * std::pow(3.0, 64.0 / 62.0));
  EXPECT_THROW(ops::dynamic_ntk_theta(1000.0, 2, 2.0, 10, 5), Error);
}

// GTE-v1.5's fixed NTK (new-impl's NTKScalingRotaryEmbedding) against its formulas in double.
TEST(Rotary, FixedAndMixedNtkFrequencies) {
  const int64_t d = 16;
  const double theta = 500000.0, k = 2.0, b = 0.75;
  const auto plain = ops::rotary_frequencies(d, theta);
  const auto fixed = ops::ntk_frequencies(d, theta, k, nullptr);
  const auto mixed = ops::ntk_frequencies(d, theta, k, &b);
  ASSERT_EQ(fixed.size(), 8u);
  ASSERT_EQ(mixed.size(), 8u);
  const double a = std::log(k) / std::pow(d / 2.0, b);
  for (int64_t i = 0; i < d / 2; ++i) {
    const double e = 2.0 * double(i) / double(d);
    EXPECT_NEAR(plain[i], 1.0 / std::pow(theta, e), 1e-6 / std::pow(theta, e)) << i;
    const double f = 1.0 / std::pow(theta * k, e) / std::pow(k, 2.0 / double(d));  // base θ·k, then / k^(2/d)
    EXPECT_NEAR(fixed[i], f, 1e-6 * f) << i;
    const double m = 1.0 / std::pow(theta, e) / std::exp(a * std::pow(double(i + 1), b));  // base θ, / λ_m
    EXPECT_NEAR(mixed[i], m, 1e-6 * m) << i;
  }
  EXPECT_LT(fixed[7], plain[7]);  // both slow the rotation down
  EXPECT_NEAR(mixed[7], plain[7] / k, 1e-6 * plain[7]);  // λ at m = d/2 is the factor itself
  // The table from frequencies is the θ table when given θ's.
  const auto t1 = ops::rotary_table(5, d, theta), t2 = ops::rotary_table(5, plain);
  EXPECT_EQ(t1.cos, t2.cos);
  EXPECT_EQ(t1.sin, t2.sin);
  EXPECT_THROW(ops::ntk_frequencies(d, theta, 0.0, nullptr), Error);
  EXPECT_THROW(ops::rotary_table(5, std::vector<float>{}), Error);
}

TEST(Glu, GegluAndSwigluMatchDoubleReference) {
  const int64_t rows = 37, n = 48;
  const auto in = random_vec(static_cast<size_t>(rows * 2 * n), 5, -4.0f, 4.0f);
  for (const ops::Activation act : {ops::Activation::GeluErf, ops::Activation::Silu}) {
    std::vector<float> out(static_cast<size_t>(rows * n), NAN);
    ops::glu(in.data(), rows, n, act, out.data());
    std::vector<double> ref(out.size());
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < n; ++j) {
        const double a = in[static_cast<size_t>(r * 2 * n + j)], g = in[static_cast<size_t>(r * 2 * n + n + j)];
        const double f = act == ops::Activation::GeluErf ? 0.5 * a * (1 + std::erf(a / std::sqrt(2.0))) : a / (1 + std::exp(-a));
        ref[static_cast<size_t>(r * n + j)] = f * g;
      }
    EXPECT_LT(max_abs_diff(out, ref), 5e-6) << ops::activation_name(act);
  }
}

TEST(LayerNorm, WithoutBiasMatchesDoubleReference) {
  const int64_t rows = 7, cols = 40;
  const auto x = random_vec(static_cast<size_t>(rows * cols), 6, -3.0f, 5.0f);
  const auto g = random_vec(cols, 7, 0.5f, 1.5f);
  std::vector<float> y(x.size());
  ops::layer_norm(x.data(), nullptr, rows, cols, g.data(), nullptr, 1e-5, y.data());
  std::vector<double> ref(x.size());
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t c = 0; c < cols; ++c) mean += x[static_cast<size_t>(i * cols + c)];
    mean /= cols;
    for (int64_t c = 0; c < cols; ++c) var += std::pow(x[static_cast<size_t>(i * cols + c)] - mean, 2);
    var /= cols;
    for (int64_t c = 0; c < cols; ++c)
      ref[static_cast<size_t>(i * cols + c)] = (x[static_cast<size_t>(i * cols + c)] - mean) / std::sqrt(var + 1e-5) * g[c];
  }
  EXPECT_LT(max_abs_diff(y, ref), 2e-6);
}

TEST(Alibi, SlopesMatchThePapersFormulaForOneToSixteenHeads) {
  for (int64_t n = 1; n <= 16; ++n) {
    // n' = the largest power of two ≤ n: heads 1..n' step 8/n' in the exponent, the rest take the odd
    // steps of 2·n' heads.
    const int64_t np = int64_t{1} << static_cast<int>(std::floor(std::log2(double(n))));
    const auto slopes = ops::alibi_slopes(n);
    ASSERT_EQ(slopes.size(), static_cast<size_t>(n));
    for (int64_t k = 1; k <= n; ++k) {
      const double e = k <= np ? -8.0 * double(k) / double(np) : -8.0 * double(2 * (k - np) - 1) / double(2 * np);
      EXPECT_EQ(slopes[static_cast<size_t>(k - 1)], static_cast<float>(std::exp2(e))) << n << " heads, head " << k;
    }
  }
  EXPECT_THROW(ops::alibi_slopes(0), Error);
  EXPECT_THROW(ops::alibi_slopes(-3), Error);
}

TEST(Attention, AlibiMatchesDoubleReferenceWithWindowAndMask) {
  struct Case { int64_t heads, d, rows, keys, window; bool mask; };
  // A non-power-of-two head count, windows narrower than a row group and than a tile, a padding mask,
  // fewer query rows than keys.
  for (const Case c : {Case{3, 16, 37, 37, -1, false}, Case{5, 8, 100, 100, -1, true}, Case{12, 16, 70, 70, 5, false},
                       Case{6, 32, 129, 129, 20, true}, Case{4, 8, 9, 40, -1, true}, Case{2, 8, 5, 5, 0, false}}) {
    const int64_t H = c.heads * c.d;
    const auto qkv = random_vec(static_cast<size_t>(c.keys * 3 * H), 30, -2.0f, 2.0f);
    std::vector<float> mask(static_cast<size_t>(c.keys), 0.0f);
    if (c.mask) mask[static_cast<size_t>(c.rows / 3)] = mask[static_cast<size_t>(c.keys - 1)] = std::numeric_limits<float>::lowest();
    const auto slopes = ops::alibi_slopes(c.heads);
    const float divisor = std::sqrt(float(c.d));
    std::vector<float> ctx(static_cast<size_t>(c.rows * H), NAN);
    std::vector<float> probs(static_cast<size_t>(c.heads * c.rows * c.keys), NAN);
    ops::AttentionSequence seq;
    seq.qkv = qkv.data();
    seq.ctx = ctx.data();
    seq.rows = c.rows;
    seq.keys = c.keys;
    seq.mask = c.mask ? mask.data() : nullptr;
    seq.window = c.window;
    seq.alibi_slopes = slopes.data();
    seq.probs = probs.data();
    seq.probs_head_stride = c.rows * c.keys;
    seq.probs_row_stride = seq.probs_cols = c.keys;
    ops::attention({c.heads, c.d, 3 * H, H, divisor}, std::vector{seq});
    std::vector<double> ref_probs;
    const auto ref = NaiveAttention{qkv.data(), c.keys, c.heads, c.d, divisor, seq.mask, c.window, slopes.data()}.all(
        c.rows, &ref_probs);
    EXPECT_LT(max_abs_diff(ctx, ref), 2e-6) << c.heads << "x" << c.d << " rows " << c.rows << " window " << c.window;
    EXPECT_LT(max_abs_diff(probs, ref_probs), 1e-6) << "probs, " << c.heads << " heads, window " << c.window;
  }
}

TEST(Attention, AlibiRowsAreBitwiseIndependentOfBatchAndThreads) {
  const auto slopes = ops::alibi_slopes(6);
  for (const int64_t window : {int64_t{-1}, int64_t{9}})
    bertcpp::testing::expect_rows_independent_of_batch_and_threads(6, 16, {61, 7, 150}, 60, window, slopes.data());
}

TEST(Attention, SlidingWindowMatchesDoubleReference) {
  struct Case { int64_t heads, d, rows, window; bool mask; };
  // Windows narrower than a 4-row group, than a 16-key tile, wider than the sequence, on and off
  // the tile widths; a padding mask inside the window.
  for (const Case c : {Case{2, 8, 37, 4, false}, Case{3, 16, 100, 1, true}, Case{1, 64, 50, 64, false},
                       Case{4, 24, 129, 20, true}, Case{2, 8, 5, 0, false}, Case{2, 32, 300, 64, false}}) {
    const int64_t H = c.heads * c.d;
    const auto qkv = random_vec(static_cast<size_t>(c.rows * 3 * H), 20, -2.0f, 2.0f);
    std::vector<float> mask(static_cast<size_t>(c.rows), 0.0f);
    if (c.mask) mask[static_cast<size_t>(c.rows / 3)] = mask[static_cast<size_t>(c.rows / 3 + 1)] = std::numeric_limits<float>::lowest();
    const float divisor = std::sqrt(float(c.d));
    std::vector<float> ctx(static_cast<size_t>(c.rows * H), NAN);
    std::vector<float> probs(static_cast<size_t>(c.heads * c.rows * c.rows), NAN);
    ops::AttentionSequence seq;
    seq.qkv = qkv.data();
    seq.ctx = ctx.data();
    seq.rows = seq.keys = c.rows;
    seq.mask = c.mask ? mask.data() : nullptr;
    seq.window = c.window;
    seq.probs = probs.data();
    seq.probs_head_stride = c.rows * c.rows;
    seq.probs_row_stride = seq.probs_cols = c.rows;
    ops::attention({c.heads, c.d, 3 * H, H, divisor}, std::vector{seq});
    std::vector<double> ref_probs;
    const auto ref = NaiveAttention{qkv.data(), c.rows, c.heads, c.d, divisor, seq.mask, c.window}.all(c.rows, &ref_probs);
    EXPECT_LT(max_abs_diff(ctx, ref), 2e-6) << c.heads << "x" << c.d << " rows " << c.rows << " window " << c.window;
    EXPECT_LT(max_abs_diff(probs, ref_probs), 1e-6) << "probs, window " << c.window;
  }
}

TEST(Attention, LongSequenceMatchesDoubleReferenceOnSampledRows) {
  // 2,048 keys, full and windowed: rows spread over the sequence against the double reference
  // computed for them (the kernel's rows are independent, so a subset is a fair check).
  const int64_t heads = 2, d = 64, S = 2048, H = heads * d;
  const auto qkv = random_vec(static_cast<size_t>(S * 3 * H), 21, -1.0f, 1.0f);
  for (const int64_t window : {int64_t{-1}, int64_t{64}}) {
    std::vector<float> ctx(static_cast<size_t>(S * H), NAN);
    ops::AttentionSequence seq;
    seq.qkv = qkv.data();
    seq.ctx = ctx.data();
    seq.rows = seq.keys = S;
    seq.window = window;
    ops::attention({heads, d, 3 * H, H, 8.0f}, std::vector{seq});
    const NaiveAttention ref{qkv.data(), S, heads, d, 8.0, nullptr, window};
    double worst = 0;
    for (const int64_t i : {int64_t{0}, int64_t{1}, int64_t{63}, int64_t{1000}, int64_t{2046}, int64_t{2047}}) {
      const auto want = ref.row(i);
      worst = std::max(worst, max_abs_diff(std::vector<float>(ctx.begin() + i * H, ctx.begin() + (i + 1) * H), want));
    }
    EXPECT_LT(worst, 2e-6) << "window " << window;
  }
}

TEST(Attention, WindowedRowsAreBitwiseIndependentOfBatchAndThreads) {
  bertcpp::testing::expect_rows_independent_of_batch_and_threads(4, 16, {53, 9, 130}, 50, /*window=*/6);
}

}  // namespace
