// Every op against a naive reference written here (triple-loop GEMM, double-precision formulas).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "bertcpp/error.h"
#include "ops/activation.h"
#include "ops/embedding.h"
#include "ops/layer_norm.h"
#include "ops/linear.h"
#include "ops/attention.h"
#include "ops/cpu/vec_math.h"
#include "ops/softmax.h"
#include "ops/threads.h"
#include "attention_reference.h"
#include "support/compare.h"
#include "support/random.h"

using namespace bertcpp;

namespace {

using bertcpp::testing::random_vec;

Tensor tensor_of(const std::vector<float>& v, Shape shape) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

// y = x·Wᵀ + b in double.
std::vector<double> naive_linear(const std::vector<float>& x, int64_t rows, int64_t x_stride, const std::vector<float>& w,
                                 const std::vector<float>* b, int64_t in, int64_t out) {
  std::vector<double> y(static_cast<size_t>(rows * out));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t o = 0; o < out; ++o) {
      double acc = b ? (*b)[static_cast<size_t>(o)] : 0.0;
      for (int64_t i = 0; i < in; ++i) acc += double(x[static_cast<size_t>(r * x_stride + i)]) * w[static_cast<size_t>(o * in + i)];
      y[static_cast<size_t>(r * out + o)] = acc;
    }
  return y;
}

using bertcpp::testing::max_abs_diff;

}  // namespace

TEST(Linear, MatchesTripleLoopForManyShapes) {
  struct Case { int64_t rows, in, out; bool bias; };
  for (const Case c : {Case{1, 32, 32, true}, Case{7, 32, 96, true}, Case{128, 64, 32, false}, Case{300, 48, 3, true},
                       Case{5, 768, 2, true}, Case{33, 100, 130, true}}) {
    const auto w = random_vec(static_cast<size_t>(c.out * c.in), 1);
    const auto b = random_vec(static_cast<size_t>(c.out), 2);
    const auto x = random_vec(static_cast<size_t>(c.rows * c.in), 3);
    ops::Linear lin(tensor_of(w, {c.out, c.in}), c.bias ? tensor_of(b, {c.out}) : Tensor());
    EXPECT_EQ(lin.in_features(), c.in);
    EXPECT_EQ(lin.out_features(), c.out);
    std::vector<float> y(static_cast<size_t>(c.rows * c.out), NAN);
    lin.forward(x.data(), c.rows, y.data());
    const auto ref = naive_linear(x, c.rows, c.in, w, c.bias ? &b : nullptr, c.in, c.out);
    EXPECT_LT(max_abs_diff(y, ref), 1e-5 * std::sqrt(double(c.in))) << c.rows << "x" << c.in << "->" << c.out;
  }
}

TEST(Linear, TensorFormAndStridedRows) {
  const int64_t in = 40, out = 24, rows = 6, stride = 3 * in;
  const auto w = random_vec(out * in, 4), b = random_vec(out, 5), x = random_vec(rows * stride, 6);
  ops::Linear lin(tensor_of(w, {out, in}), tensor_of(b, {out}));
  std::vector<float> y(rows * out);
  lin.forward(x.data() + in, rows, y.data(), stride);  // the middle third of every row
  std::vector<float> shifted(x.begin() + in, x.end());
  shifted.resize(rows * stride);
  EXPECT_LT(max_abs_diff(y, naive_linear(shifted, rows, stride, w, &b, in, out)), 1e-5);

  const auto x3 = random_vec(2 * 3 * in, 7);
  Tensor y3 = lin.forward(tensor_of(x3, {2, 3, in}));
  EXPECT_EQ(y3.shape(), (Shape{2, 3, out}));
  auto ref = naive_linear(x3, 6, in, w, &b, in, out);
  EXPECT_LT(max_abs_diff(std::as_const(y3).span<float>(), ref), 1e-5);
  EXPECT_THROW(lin.forward(tensor_of(random_vec(in + 1, 8), {1, in + 1})), Error);
}

TEST(Linear, FusedActivationMatchesLinearThenReference) {
  const int64_t rows = 19, in = 48, out = 40;
  const auto w = random_vec(out * in, 21, -0.5f, 0.5f), b = random_vec(out, 22), x = random_vec(rows * in, 23, -2.0f, 2.0f);
  const auto lin = naive_linear(x, rows, in, w, &b, in, out);
  struct Case { ops::Activation act; double (*f)(double); };
  const Case cases[] = {
      {ops::Activation::GeluErf, [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }},
      {ops::Activation::GeluTanh, [](double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))); }},
      {ops::Activation::Relu, [](double v) { return v > 0 ? v : 0.0; }},
      {ops::Activation::Silu, [](double v) { return v / (1.0 + std::exp(-v)); }},
      {ops::Activation::Tanh, [](double v) { return std::tanh(v); }},
  };
  for (const auto& c : cases) {
    ops::Linear l(tensor_of(w, {out, in}), tensor_of(b, {out}), c.act);
    EXPECT_EQ(l.activation(), c.act);
    std::vector<float> y(rows * out);
    l.forward(x.data(), rows, y.data());
    std::vector<double> ref(lin.size());
    for (size_t i = 0; i < lin.size(); ++i) ref[i] = c.f(lin[i]);
    EXPECT_LT(max_abs_diff(y, ref), 1e-5) << ops::activation_name(c.act);
  }
}

// bf16: x and W rounded to bf16 (nearest even), products exact in f32, f32 accumulation — so the
// result is within f32 summation error of the double reference on the ROUNDED operands. Shapes
// cover many rows and columns, strided input rows and a fused activation.
static float round_bf16(float v) {
  uint32_t u;
  std::memcpy(&u, &v, 4);
  u += 0x7fffu + ((u >> 16) & 1u);
  u &= 0xffff0000u;
  std::memcpy(&v, &u, 4);
  return v;
}

TEST(Linear, Bf16MatchesReferenceOnRoundedOperands) {
  struct Case { int64_t rows, in, out, stride; bool bias; ops::Activation act; };
  for (const Case c : {Case{600, 64, 1000, 64, true, ops::Activation::GeluErf}, Case{3, 768, 130, 800, true, ops::Activation::Identity},
                       Case{257, 40, 24, 40, false, ops::Activation::Identity}}) {
    SCOPED_TRACE(::testing::Message() << c.rows << "x" << c.in << "->" << c.out);
    const auto w = random_vec(static_cast<size_t>(c.out * c.in), 31, -0.5f, 0.5f);
    const auto b = random_vec(static_cast<size_t>(c.out), 32);
    const auto x = random_vec(static_cast<size_t>(c.rows * c.stride), 33, -2.0f, 2.0f);
    std::unique_ptr<ops::Linear> lin;
    try {
      lin = std::make_unique<ops::Linear>(tensor_of(w, {c.out, c.in}), c.bias ? tensor_of(b, {c.out}) : Tensor(), c.act,
                                          ops::GemmType::BF16);
    } catch (const Error& e) {
      GTEST_SKIP() << "no bf16 GEMM on this CPU: " << e.what();
    }
    std::vector<float> y(static_cast<size_t>(c.rows * c.out), NAN);
    lin->forward(x.data(), c.rows, y.data(), c.stride);
    std::vector<float> xr(x.size()), wr(w.size());
    std::transform(x.begin(), x.end(), xr.begin(), round_bf16);
    std::transform(w.begin(), w.end(), wr.begin(), round_bf16);
    auto ref = naive_linear(xr, c.rows, c.stride, wr, c.bias ? &b : nullptr, c.in, c.out);
    if (c.act == ops::Activation::GeluErf)
      for (auto& v : ref) v = 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
    EXPECT_LT(max_abs_diff(y, ref), 1e-5 * std::sqrt(double(c.in)));
  }
}

TEST(Linear, RejectsBadWeights) {
  EXPECT_THROW(ops::Linear(Tensor::zeros(DType::F32, {4}), Tensor()), Error);
  EXPECT_THROW(ops::Linear(Tensor::zeros(DType::F16, {4, 4}), Tensor()), Error);
  EXPECT_THROW(ops::Linear(Tensor::zeros(DType::F32, {4, 4}), Tensor::zeros(DType::F32, {3})), Error);
}

TEST(Linear, ConcurrentCallsAgree) {
  const int64_t in = 64, out = 64;
  const auto w = random_vec(out * in, 9), b = random_vec(out, 10);
  ops::Linear lin(tensor_of(w, {out, in}), tensor_of(b, {out}));
  std::vector<std::thread> threads;
  std::vector<double> errs(4, 1.0);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      const int64_t rows = 3 + 17 * t;
      const auto x = random_vec(rows * in, 11 + t);
      std::vector<float> y(rows * out);
      for (int rep = 0; rep < 5; ++rep) lin.forward(x.data(), rows, y.data());
      errs[t] = max_abs_diff(y, naive_linear(x, rows, in, w, &b, in, out));
    });
  for (auto& th : threads) th.join();
  for (double e : errs) EXPECT_LT(e, 1e-5);
}

TEST(Attention, MatchesDoubleReferenceForManyShapes) {
  struct Case { int64_t heads, d, rows, keys; bool mask; };
  // head_dim and key counts on and off the kernel's 16/32/64-wide tiles; rows > keys are a padded
  // batch's padding rows (they attend to the real keys like every row).
  for (const Case c : {Case{3, 4, 5, 5, false}, Case{2, 24, 17, 17, true}, Case{12, 64, 40, 40, false},
                       Case{4, 32, 70, 33, true}, Case{1, 80, 9, 1, false}, Case{2, 16, 100, 100, true}}) {
    const int64_t H = c.heads * c.d;
    const auto qkv = random_vec(static_cast<size_t>(c.rows * 3 * H), 12, -2.0f, 2.0f);
    std::vector<float> mask(static_cast<size_t>(c.keys), 0.0f);
    if (c.mask) mask[static_cast<size_t>(c.keys / 2)] = std::numeric_limits<float>::lowest();
    const float divisor = std::sqrt(float(c.d));
    std::vector<float> ctx(static_cast<size_t>(c.rows * H), NAN);
    const int64_t pcols = c.keys + 3;  // probabilities row wider than the keys: the rest must be 0
    std::vector<float> probs(static_cast<size_t>(c.heads * c.rows * pcols), NAN);
    ops::AttentionSequence seq;
    seq.qkv = qkv.data();
    seq.ctx = ctx.data();
    seq.rows = c.rows;
    seq.keys = c.keys;
    seq.mask = c.mask ? mask.data() : nullptr;
    seq.probs = probs.data();
    seq.probs_head_stride = c.rows * pcols;
    seq.probs_row_stride = pcols;
    seq.probs_cols = pcols;
    ops::attention({c.heads, c.d, 3 * H, H, divisor}, std::vector{seq});
    std::vector<double> ref_probs;
    const auto ref = bertcpp::testing::NaiveAttention{qkv.data(), c.keys, c.heads, c.d, divisor, seq.mask}.all(c.rows, &ref_probs);
    EXPECT_LT(max_abs_diff(ctx, ref), 2e-6) << c.heads << "x" << c.d << " rows " << c.rows << " keys " << c.keys;
    double pd = 0;
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.rows; ++i)
        for (int64_t j = 0; j < pcols; ++j) {
          const double want = j < c.keys ? ref_probs[static_cast<size_t>((h * c.rows + i) * c.keys + j)] : 0.0;
          pd = std::max(pd, std::abs(probs[static_cast<size_t>((h * c.rows + i) * pcols + j)] - want));
        }
    EXPECT_LT(pd, 1e-6) << c.heads << "x" << c.d << " rows " << c.rows << " keys " << c.keys;
  }
}

// x rounded to bf16 (nearest even), as a float.
float bf16_round(float x) {
  uint32_t b;
  std::memcpy(&b, &x, 4);
  b = (b + 0x7FFFu + ((b >> 16) & 1u)) & 0xFFFF0000u;
  std::memcpy(&x, &b, 4);
  return x;
}

// AttentionShape::bf16 against attention in double on what the kernel multiplies: Q, K, V rounded
// to bf16, the probabilities (double) rounded to bf16 before P·V. Left to the kernel: its f32 sums
// and exp (≤ ~1e-6 relative, as the f32 test), and a probability whose f32 and double values round
// to neighbouring bf16 values: one bf16 ulp (≤ 2^-7·p) times |v| ≤ 2, so ≤ 2^-6·p per such key;
// measured max 5.8e-5 over these shapes, held to 2e-4 (a dropped key pair or mis-paired element is
// ≥ 1e-2). Probabilities come from the bf16 Q·Kᵀ unrounded: ≤ 1e-6 as in f32.
TEST(Attention, Bf16MatchesBf16RoundedDoubleReference) {
  if (!ops::attention_bf16_supported()) GTEST_SKIP() << "no AVX-512 BF16 on this CPU (the f32 kernel runs)";
  struct Case { int64_t heads, d, rows, keys; bool mask; int64_t window; };
  // Odd head_dim and key counts (zero-padded pairs), the 16/32/64 tiles, padded rows, a window
  // starting on an odd key.
  for (const Case c : {Case{3, 4, 5, 5, false, -1}, Case{2, 24, 17, 17, true, -1}, Case{12, 64, 40, 40, false, -1},
                       Case{4, 32, 70, 33, true, -1}, Case{1, 80, 9, 1, false, -1}, Case{2, 7, 100, 100, true, -1},
                       Case{2, 33, 129, 129, false, -1}, Case{2, 32, 50, 50, false, 5}}) {
    const int64_t H = c.heads * c.d;
    const auto qkv = random_vec(static_cast<size_t>(c.rows * 3 * H), 21, -2.0f, 2.0f);
    std::vector<float> qkv_bf16(qkv.size());
    std::transform(qkv.begin(), qkv.end(), qkv_bf16.begin(), bf16_round);
    std::vector<float> mask(static_cast<size_t>(c.keys), 0.0f);
    if (c.mask) mask[static_cast<size_t>(c.keys / 2)] = std::numeric_limits<float>::lowest();
    const float divisor = std::sqrt(float(c.d));
    std::vector<float> ctx(static_cast<size_t>(c.rows * H), NAN), probs(static_cast<size_t>(c.heads * c.rows * c.keys), NAN);
    ops::AttentionSequence seq;
    seq.qkv = qkv.data();
    seq.ctx = ctx.data();
    seq.rows = c.rows;
    seq.keys = c.keys;
    seq.window = c.window;
    seq.mask = c.mask ? mask.data() : nullptr;
    seq.probs = probs.data();
    seq.probs_head_stride = c.rows * c.keys;
    seq.probs_row_stride = c.keys;
    seq.probs_cols = c.keys;
    ops::attention({c.heads, c.d, 3 * H, H, divisor, true}, std::vector{seq});
    const bertcpp::testing::NaiveAttention ref{qkv_bf16.data(), c.keys, c.heads, c.d, divisor, seq.mask, c.window};
    std::vector<double> ref_probs;
    ref.all(c.rows, &ref_probs);
    EXPECT_LT(max_abs_diff(probs, ref_probs), 1e-6) << c.heads << "x" << c.d << " rows " << c.rows << " keys " << c.keys;
    double err = 0;
    for (int64_t i = 0; i < c.rows; ++i)
      for (int64_t h = 0; h < c.heads; ++h)
        for (int64_t k = 0; k < c.d; ++k) {
          double want = 0;
          for (int64_t j = 0; j < c.keys; ++j)
            want += double(bf16_round(float(ref_probs[static_cast<size_t>((h * c.rows + i) * c.keys + j)]))) *
                    qkv_bf16[static_cast<size_t>(j * 3 * H + 2 * H + h * c.d + k)];
          err = std::max(err, std::abs(ctx[static_cast<size_t>(i * H + h * c.d + k)] - want));
        }
    std::printf("    bf16 %ldx%ld rows %ld keys %ld window %ld: max |ctx - ref| %.3g\n", long(c.heads), long(c.d),
                long(c.rows), long(c.keys), long(c.window), err);
    EXPECT_LT(err, 2e-4) << c.heads << "x" << c.d << " rows " << c.rows << " keys " << c.keys;
  }
}

TEST(Attention, Bf16RowsAreBitwiseIndependentOfBatchAndThreads) {
  if (!ops::attention_bf16_supported()) GTEST_SKIP() << "no AVX-512 BF16 on this CPU";
  bertcpp::testing::expect_rows_independent_of_batch_and_threads(4, 24, {37, 9, 64}, 40, -1, nullptr, true);
  bertcpp::testing::expect_rows_independent_of_batch_and_threads(2, 32, {50, 3, 17}, 41, 4, nullptr, true);
}

TEST(Attention, RowsAreBitwiseIndependentOfBatchAndThreads) {
  bertcpp::testing::expect_rows_independent_of_batch_and_threads(4, 24, {37, 9, 64}, 40);
}

TEST(Attention, RejectsBadShapes) {
  std::vector<float> buf(64);
  ops::AttentionSequence s;
  s.qkv = buf.data();
  s.ctx = buf.data();
  s.rows = 1;
  s.keys = 0;
  EXPECT_THROW(ops::attention({1, 4, 12, 4, 2.0f}, std::vector{s}), Error);
  s.keys = 1;
  EXPECT_THROW(ops::attention({1, 4, 8, 4, 2.0f}, std::vector{s}), Error);  // qkv rows narrower than Q|K|V
}

TEST(LayerNorm, MatchesDoubleReferenceWithAndWithoutResidual) {
  const int64_t rows = 9, cols = 48;
  auto x = random_vec(rows * cols, 13, -3.0f, 5.0f);
  const auto r = random_vec(rows * cols, 14);
  const auto g = random_vec(cols, 15, 0.5f, 1.5f), b = random_vec(cols, 16);
  for (double eps : {1e-12, 1e-7, 1e-5}) {
    for (bool with_res : {false, true}) {
      std::vector<float> y(x.size());
      ops::layer_norm(x.data(), with_res ? r.data() : nullptr, rows, cols, g.data(), b.data(), eps, y.data());
      std::vector<double> ref(x.size());
      for (int64_t i = 0; i < rows; ++i) {
        double mean = 0, var = 0;
        std::vector<double> v(cols);
        for (int64_t c = 0; c < cols; ++c) v[c] = double(float(x[i * cols + c] + (with_res ? r[i * cols + c] : 0.0f)));
        for (double e : v) mean += e;
        mean /= cols;
        for (double e : v) var += (e - mean) * (e - mean);
        var /= cols;
        for (int64_t c = 0; c < cols; ++c) ref[i * cols + c] = (v[c] - mean) / std::sqrt(var + eps) * g[c] + b[c];
      }
      EXPECT_LT(max_abs_diff(y, ref), 2e-6) << eps << " " << with_res;
    }
  }
  // In place (y aliases x).
  std::vector<float> y(x.size());
  ops::layer_norm(x.data(), r.data(), rows, cols, g.data(), b.data(), 1e-12, y.data());
  ops::layer_norm(x.data(), r.data(), rows, cols, g.data(), b.data(), 1e-12, x.data());
  EXPECT_EQ(max_abs_diff(x, y), 0.0);
}

TEST(RmsNorm, MatchesDoubleReferenceWithAndWithoutResidual) {
  const int64_t rows = 9, cols = 48;
  auto x = random_vec(rows * cols, 23, -3.0f, 5.0f);
  const auto r = random_vec(rows * cols, 24);
  const auto g = random_vec(cols, 25, 0.5f, 1.5f);
  for (double eps : {1e-6, 1e-5}) {
    for (bool with_res : {false, true}) {
      std::vector<float> y(x.size());
      ops::rms_norm(x.data(), with_res ? r.data() : nullptr, rows, cols, g.data(), eps, y.data());
      std::vector<double> ref(x.size());
      for (int64_t i = 0; i < rows; ++i) {
        double ms = 0;
        std::vector<double> v(cols);
        for (int64_t c = 0; c < cols; ++c) v[c] = double(float(x[i * cols + c] + (with_res ? r[i * cols + c] : 0.0f)));
        for (double e : v) ms += e * e;
        ms /= cols;
        for (int64_t c = 0; c < cols; ++c) ref[i * cols + c] = g[c] * v[c] / std::sqrt(ms + eps);  // no mean, no bias
      }
      EXPECT_LT(max_abs_diff(y, ref), 2e-6) << eps << " " << with_res;
    }
  }
  std::vector<float> y(x.size());  // in place (y aliases x)
  ops::rms_norm(x.data(), r.data(), rows, cols, g.data(), 1e-6, y.data());
  ops::rms_norm(x.data(), r.data(), rows, cols, g.data(), 1e-6, x.data());
  EXPECT_EQ(max_abs_diff(x, y), 0.0);
}

TEST(Softmax, MatchesReferenceAndSurvivesLargeValues) {
  const int64_t rows = 4, cols = 17;
  auto x = random_vec(rows * cols, 17, -30.0f, 30.0f);
  x[3] = 1e30f;  // would overflow without max subtraction
  auto y = x;
  ops::softmax(y.data(), rows, cols);
  for (int64_t r = 0; r < rows; ++r) {
    double mx = -INFINITY, sum = 0;
    for (int64_t c = 0; c < cols; ++c) mx = std::max(mx, double(x[r * cols + c]));
    for (int64_t c = 0; c < cols; ++c) sum += std::exp(double(x[r * cols + c]) - mx);
    for (int64_t c = 0; c < cols; ++c) EXPECT_NEAR(y[r * cols + c], std::exp(double(x[r * cols + c]) - mx) / sum, 1e-6);
  }
}

// A power-of-two divisor is applied as a multiplication by its reciprocal: the same bits as
// dividing first (what transformers does), with and without a mask.
TEST(Softmax, PowerOfTwoDivisorIsBitwiseTheDivision) {
  const int64_t n = 77;
  const auto x = random_vec(n, 41, -50.0f, 50.0f);
  auto mask = random_vec(n, 42, -3.0f, 0.0f);
  mask[5] = std::numeric_limits<float>::lowest();
  for (const float divisor : {8.0f, 4.0f, 0.5f, 1.0f}) {
    for (const float* m : {static_cast<const float*>(nullptr), static_cast<const float*>(mask.data())}) {
      auto a = x;
      ops::cpu::softmax_row(a.data(), n, divisor, m);
      auto b = x;
      for (auto& v : b) v = v / divisor;
      ops::cpu::softmax_row(b.data(), n, 1.0f, m);
      EXPECT_EQ(0, std::memcmp(a.data(), b.data(), n * sizeof(float))) << "divisor " << divisor << (m ? " masked" : "");
    }
  }
}

TEST(Activation, FormulasMatchDoubleReference) {
  const auto x = random_vec(1000, 19, -8.0f, 8.0f);
  const double k = std::sqrt(2.0 / M_PI);
  struct Case { ops::Activation act; double (*f)(double); };
  const Case cases[] = {
      {ops::Activation::GeluErf, [](double v) { return 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0))); }},
      {ops::Activation::GeluTanh, [](double v) { return 0.5 * v * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (v + 0.044715 * v * v * v))); }},
      {ops::Activation::Relu, [](double v) { return v > 0 ? v : 0.0; }},
      {ops::Activation::Silu, [](double v) { return v / (1.0 + std::exp(-v)); }},
      {ops::Activation::Tanh, [](double v) { return std::tanh(v); }},
      {ops::Activation::Identity, [](double v) { return v; }},
  };
  (void)k;
  for (const auto& c : cases) {
    auto y = x;
    ops::activate(y.data(), static_cast<int64_t>(y.size()), c.act);
    for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], c.f(x[i]), 2e-6 * std::max(1.0, std::abs(double(x[i])))) << ops::activation_name(c.act) << " " << x[i];
  }
  // Large inputs stay finite and exact where the reference is.
  std::vector<float> big = {-100.0f, 100.0f, 0.0f};
  ops::activate(big.data(), 3, ops::Activation::GeluErf);
  EXPECT_EQ(big[0], -0.0f);
  EXPECT_EQ(big[1], 100.0f);
  EXPECT_EQ(big[2], 0.0f);
}

TEST(Embedding, GathersAccumulatesAndRejectsBadIds) {
  const int64_t n_emb = 6, dim = 3;
  const auto table = random_vec(n_emb * dim, 20);
  const std::vector<int64_t> ids = {5, 0, 2, 5};
  std::vector<float> out(ids.size() * dim);
  ops::embedding(table.data(), n_emb, dim, ids.data(), 4, out.data(), false);
  for (size_t i = 0; i < ids.size(); ++i)
    for (int64_t c = 0; c < dim; ++c) EXPECT_EQ(out[i * dim + c], table[ids[i] * dim + c]);
  auto acc = out;
  ops::embedding(table.data(), n_emb, dim, ids.data(), 4, acc.data(), true);
  for (size_t i = 0; i < acc.size(); ++i) EXPECT_EQ(acc[i], out[i] + out[i]);
  const std::vector<int64_t> bad = {1, 6};
  try {
    ops::embedding(table.data(), n_emb, dim, bad.data(), 2, out.data(), false);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("6"), std::string::npos);
  }
  const std::vector<int64_t> neg = {-1};
  EXPECT_THROW(ops::embedding(table.data(), n_emb, dim, neg.data(), 1, out.data(), false), Error);

  std::vector<float> rows(2 * dim, 1.0f);
  const std::vector<float> row = {1, 2, 3};
  ops::add_row(rows.data(), 2, dim, row.data());
  EXPECT_EQ(rows, (std::vector<float>{2, 3, 4, 2, 3, 4}));
  ops::add_inplace(rows.data(), row.data(), 3);
  EXPECT_EQ(rows, (std::vector<float>{3, 5, 7, 2, 3, 4}));
}

TEST(Threads, SetAndQuery) {
  ops::set_num_threads(1);
  EXPECT_EQ(ops::num_threads(), 1);
  ops::set_num_threads(0);
  EXPECT_EQ(ops::num_threads(), ops::available_cores());
}
