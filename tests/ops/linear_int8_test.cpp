// Int8 Linear against an exact (double) reference, with an error bound derived from the
// quantization steps documented in ops/linear.h — not a tolerance tuned to pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "bertcpp/error.h"
#include "ops/activation.h"
#include "ops/linear.h"

using namespace bertcpp;

namespace {

std::vector<float> normal_vec(size_t n, uint32_t seed, float sd) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.0f, sd);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

Tensor tensor_of(const std::vector<float>& v, Shape shape) {
  Tensor t = Tensor::empty(DType::F32, std::move(shape));
  std::memcpy(t.data<float>(), v.data(), v.size() * sizeof(float));
  return t;
}

using ops::Linear;

Linear int8_linear(const std::vector<float>& w, const std::vector<float>& b, int64_t out, int64_t in,
                   ops::Activation act = ops::Activation::Identity, const std::vector<float>& absmax = {}) {
  return Linear(tensor_of(w, {out, in}), b.empty() ? Tensor() : tensor_of(b, {out}), act, ops::GemmType::Int8,
                absmax.empty() ? Tensor() : tensor_of(absmax, {in}));
}

// Exact x·Wᵀ + b in double, and the worst-case int8 error of each output element:
// with x' = x/s, w' = w·s (s = smoothing, 1 without), row step ex = max|x'|/127 and channel step
// ew[c] = max|w'[c,:]|/127, rounding to nearest gives |x̂' − x'| ≤ ex/2, |ŵ' − w'| ≤ ew/2, so
// |x̂'·ŵ' − x'·w'| ≤ |x'|·ew/2 + (|w'| + ew/2)·ex/2 summed over k. The f32 arithmetic around it
// (input scaling, s32 → f32, two scale multiplies, bias add) adds a few ulps: 1e-5 relative to
// Σ|x||w| + |b|, and the half-steps get a 1e-4 margin for the rounding of x'·127/max in f32.
// Besides the worst case, the statistical size of the error: rounding errors are uniform in
// ±step/2 (variance step²/12) and independent, so E[(ŷ − y)²] = Σ_k x'²·ew²/12 + w'²·ex²/12 +
// (ex·ew)²/144 — `noise`. Over thousands of elements the measured mean square error must match it;
// truncating instead of rounding, a wrong scale or a lost smoothing factor all multiply it by ≥ 4.
struct Reference {
  std::vector<double> y, bound, noise;
};
Reference reference(const std::vector<float>& x, int64_t rows, int64_t in, const std::vector<float>& w,
                    const std::vector<float>& b, int64_t out, const std::vector<double>& s) {
  Reference ref;
  ref.y.resize(static_cast<size_t>(rows * out));
  ref.bound.resize(ref.y.size());
  ref.noise.resize(ref.y.size());
  std::vector<double> ew(static_cast<size_t>(out), 0.0);
  for (int64_t c = 0; c < out; ++c)
    for (int64_t k = 0; k < in; ++k) ew[c] = std::max(ew[c], std::fabs(w[c * in + k] * s[k]) / 127.0);
  const double half = 0.5 + 1e-4;
  for (int64_t r = 0; r < rows; ++r) {
    double ex = 0;
    for (int64_t k = 0; k < in; ++k) ex = std::max(ex, std::fabs(x[r * in + k] / s[k]) / 127.0);
    for (int64_t c = 0; c < out; ++c) {
      double acc = b.empty() ? 0.0 : b[c], q = 0, mag = b.empty() ? 0.0 : std::fabs(b[c]), var = 0;
      for (int64_t k = 0; k < in; ++k) {
        const double xk = x[r * in + k], wk = w[c * in + k];
        acc += xk * wk;
        mag += std::fabs(xk * wk);
        const double xs = std::fabs(xk / s[k]), ws = std::fabs(wk * s[k]);
        q += xs * ew[c] * half + (ws + ew[c] * half) * ex * half;
        var += (xs * xs * ew[c] * ew[c] + ws * ws * ex * ex) / 12.0 + ex * ex * ew[c] * ew[c] / 144.0;
      }
      ref.noise[r * out + c] = var;
      ref.y[r * out + c] = acc;
      ref.bound[r * out + c] = q + 1e-5 * mag;
    }
  }
  return ref;
}

// Documented smoothing (linear.h): s[k] = √(absmax[k] / max_c |W[c,k]|).
std::vector<double> smoothing(const std::vector<float>& w, int64_t out, int64_t in, const std::vector<float>& absmax) {
  std::vector<double> s(static_cast<size_t>(in), 1.0);
  for (int64_t k = 0; k < in && !absmax.empty(); ++k) {
    double m = 0;
    for (int64_t c = 0; c < out; ++c) m = std::max(m, double(std::fabs(w[c * in + k])));
    s[k] = std::sqrt(double(absmax[k]) / m);
  }
  return s;
}

// Error ratio |y − y_ref| / bound, worst over all elements (must be ≤ 1).
double worst_ratio(const std::vector<float>& y, const Reference& ref) {
  double worst = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    const double r = std::fabs(double(y[i]) - ref.y[i]) / ref.bound[i];
    if (!(r <= worst)) worst = std::isnan(r) ? INFINITY : r;
  }
  return worst;
}

// Measured Σ(ŷ − y)² / Σ noise: ≈ 1 when the int8 path rounds as documented.
double mse_ratio(const std::vector<float>& y, const Reference& ref) {
  double e = 0, n = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    e += (y[i] - ref.y[i]) * (y[i] - ref.y[i]);
    n += ref.noise[i];
  }
  return e / n;
}

TEST(LinearInt8, WithinQuantizationBoundForManyShapes) {
  struct Case { int64_t rows, in, out; bool bias; };
  for (const Case c : {Case{1, 8, 4, true}, Case{7, 33, 17, false}, Case{128, 768, 96, true}, Case{5, 300, 1000, true},
                       Case{64, 3072, 64, true}, Case{600, 64, 700, true}, Case{456, 40, 130, false}}) {  // row blocks 256+256+88, 256+136+64
    SCOPED_TRACE(::testing::Message() << c.rows << "x" << c.in << "->" << c.out);
    const auto x = normal_vec(static_cast<size_t>(c.rows * c.in), 1, 1.0f);
    const auto w = normal_vec(static_cast<size_t>(c.out * c.in), 2, 0.02f);
    const auto b = c.bias ? normal_vec(static_cast<size_t>(c.out), 3, 0.02f) : std::vector<float>{};
    Linear lin = int8_linear(w, b, c.out, c.in);
    EXPECT_EQ(lin.gemm(), ops::GemmType::Int8);
    std::vector<float> y(static_cast<size_t>(c.rows * c.out));
    lin.forward(x.data(), c.rows, y.data());
    const Reference ref = reference(x, c.rows, c.in, w, b, c.out, std::vector<double>(static_cast<size_t>(c.in), 1.0));
    EXPECT_LE(worst_ratio(y, ref), 1.0);
    if (y.size() >= 2000) {  // enough samples for the mean square error to be near its expectation
      const double r = mse_ratio(y, ref);
      EXPECT_GT(r, 0.7);
      EXPECT_LT(r, 1.4);
    }
  }
}

TEST(LinearInt8, StridedRowsAndRowIndependence) {
  const int64_t rows = 9, in = 40, out = 24, stride = 56;
  const auto xs = normal_vec(static_cast<size_t>(rows * stride), 4, 1.0f);
  const auto w = normal_vec(static_cast<size_t>(out * in), 5, 0.05f);
  const auto b = normal_vec(static_cast<size_t>(out), 6, 0.1f);
  Linear lin = int8_linear(w, b, out, in);
  std::vector<float> y(static_cast<size_t>(rows * out));
  lin.forward(xs.data(), rows, y.data(), stride);
  std::vector<float> x(static_cast<size_t>(rows * in));
  for (int64_t r = 0; r < rows; ++r) std::copy(xs.begin() + r * stride, xs.begin() + r * stride + in, x.begin() + r * in);
  EXPECT_LE(worst_ratio(y, reference(x, rows, in, w, b, out, std::vector<double>(in, 1.0))), 1.0);
  // Per-row quantization: a row alone gives bitwise the same result as inside the batch.
  for (int64_t r = 0; r < rows; ++r) {
    std::vector<float> one(static_cast<size_t>(out));
    lin.forward(x.data() + r * in, 1, one.data());
    for (int64_t c = 0; c < out; ++c) ASSERT_EQ(one[c], y[r * out + c]) << "row " << r << " col " << c;
  }
}

TEST(LinearInt8, SmoothingKeepsOutlierChannelsAccurate) {
  // Inputs like a BERT LayerNorm output with outlier channels: channels 3 and 17 are ~40× larger
  // in every row. absmax = the documented estimate 4·|γ| + |β| of such a LayerNorm.
  const int64_t rows = 32, in = 64, out = 48;
  auto x = normal_vec(static_cast<size_t>(rows * in), 7, 1.0f);
  std::vector<float> absmax(static_cast<size_t>(in), 4.0f);
  for (int64_t k : {3, 17}) {
    absmax[k] = 4.0f * 40.0f + 20.0f;
    for (int64_t r = 0; r < rows; ++r) x[r * in + k] = 40.0f * x[r * in + k] + 20.0f;
  }
  const auto w = normal_vec(static_cast<size_t>(out * in), 8, 0.02f);
  const auto b = normal_vec(static_cast<size_t>(out), 9, 0.02f);
  std::vector<float> y_plain(static_cast<size_t>(rows * out)), y_smooth(y_plain.size());
  int8_linear(w, b, out, in).forward(x.data(), rows, y_plain.data());
  int8_linear(w, b, out, in, ops::Activation::Identity, absmax).forward(x.data(), rows, y_smooth.data());
  const Reference plain = reference(x, rows, in, w, b, out, std::vector<double>(in, 1.0));
  const Reference smooth = reference(x, rows, in, w, b, out, smoothing(w, out, in, absmax));
  EXPECT_LE(worst_ratio(y_plain, plain), 1.0);
  EXPECT_LE(worst_ratio(y_smooth, smooth), 1.0);
  EXPECT_LT(mse_ratio(y_smooth, smooth), 1.4);  // the smoothing is applied as documented
  // The smoothed bound is the tighter one here (that is the point of smoothing) and the measured
  // error follows it.
  double bp = 0, bs = 0, ep = 0, es = 0;
  for (size_t i = 0; i < y_plain.size(); ++i) {
    bp += plain.bound[i];
    bs += smooth.bound[i];
    ep += std::fabs(y_plain[i] - plain.y[i]);
    es += std::fabs(y_smooth[i] - plain.y[i]);
  }
  EXPECT_LT(bs, bp);
  EXPECT_LT(es, ep);
}

TEST(LinearInt8, ActivationAfterDequantization) {
  // GELU's slope is within [−0.13, 1.13], so the pre-activation bound grows by 1.13 at most.
  const int64_t rows = 16, in = 96, out = 40;
  const auto x = normal_vec(static_cast<size_t>(rows * in), 10, 1.0f);
  const auto w = normal_vec(static_cast<size_t>(out * in), 11, 0.1f);
  const auto b = normal_vec(static_cast<size_t>(out), 12, 0.1f);
  for (ops::Activation act : {ops::Activation::GeluErf, ops::Activation::Relu}) {
    std::vector<float> y(static_cast<size_t>(rows * out));
    int8_linear(w, b, out, in, act).forward(x.data(), rows, y.data());
    Reference ref = reference(x, rows, in, w, b, out, std::vector<double>(in, 1.0));
    for (size_t i = 0; i < ref.y.size(); ++i) {
      const double v = ref.y[i];
      ref.y[i] = act == ops::Activation::Relu ? std::max(v, 0.0) : 0.5 * v * (1.0 + std::erf(v / std::sqrt(2.0)));
      ref.bound[i] = 1.13 * ref.bound[i] + 1e-6;  // + the f32 GELU's own error
    }
    EXPECT_LE(worst_ratio(y, ref), 1.0) << ops::activation_name(act);
  }
}

TEST(LinearInt8, ZeroAndNonFiniteRows) {
  const int64_t in = 16, out = 8;
  const auto w = normal_vec(static_cast<size_t>(out * in), 13, 0.1f);
  const auto b = normal_vec(static_cast<size_t>(out), 14, 0.1f);
  std::vector<float> x(static_cast<size_t>(3 * in), 0.0f);
  for (int64_t k = 0; k < in; ++k) x[2 * in + k] = 0.5f;
  x[in + 5] = std::numeric_limits<float>::quiet_NaN();
  std::vector<float> y(static_cast<size_t>(3 * out));
  int8_linear(w, b, out, in).forward(x.data(), 3, y.data());
  for (int64_t c = 0; c < out; ++c) {
    EXPECT_EQ(y[c], b[c]);                  // all-zero row: exactly the bias
    EXPECT_TRUE(std::isnan(y[out + c]));    // NaN in, NaN out (as f32)
    EXPECT_TRUE(std::isfinite(y[2 * out + c]));
  }
  // An all-zero weight (row of W) quantizes without dividing by zero.
  std::vector<float> wz(static_cast<size_t>(out * in), 0.0f);
  int8_linear(wz, b, out, in).forward(x.data() + 2 * in, 1, y.data());
  for (int64_t c = 0; c < out; ++c) EXPECT_EQ(y[c], b[c]);
}

// forward_int8 (the encoder's fused path) gives forward's bits, from f32 or pre-quantized rows, and
// finishes every row exactly once, on rows that are already final. 200 rows: 16-row tasks with a
// tail block that overlaps; 40 rows: one block on all threads.
TEST(LinearInt8, FusedForwardEqualsForwardAndFinishesEachRowOnce) {
  const int64_t in = 96, out = 72;
  const auto w = normal_vec(static_cast<size_t>(out * in), 21, 0.1f);
  const auto b = normal_vec(static_cast<size_t>(out), 22, 0.1f);
  std::vector<float> absmax(static_cast<size_t>(in), 1.0f);
  absmax[3] = 20.0f;
  const Linear smoothed = int8_linear(w, b, out, in, ops::Activation::GeluErf, absmax);
  const Linear with_f32 = smoothed.with_f32_channels(tensor_of(w, {out, in}), {5, 60});
  EXPECT_EQ(smoothed.scale_stride(), 1);
  EXPECT_EQ(with_f32.scale_stride(), 3);
  for (const Linear* l : {&smoothed, &with_f32})
  for (int64_t rows : {200, 40}) {
    const Linear& lin = *l;
    const auto x = normal_vec(static_cast<size_t>(rows * in), 23, 1.0f);
    std::vector<float> ref(static_cast<size_t>(rows * out));
    lin.forward(x.data(), rows, ref.data());
    std::vector<int8_t> q(static_cast<size_t>(rows * in));
    std::vector<float> scale(static_cast<size_t>(rows * lin.scale_stride()));
    lin.quantize_input(x.data(), rows, q.data(), scale.data());
    struct Seen {
      std::vector<float> y;
      std::vector<int> count;
      int64_t out;
      static void run(void* self, int64_t first, int64_t n, float* r) {
        Seen& s = *static_cast<Seen*>(self);
        for (int64_t i = 0; i < n; ++i) {
          std::memcpy(s.y.data() + (first + i) * s.out, r + i * s.out, static_cast<size_t>(s.out) * sizeof(float));
#pragma omp atomic
          ++s.count[static_cast<size_t>(first + i)];
        }
      }
    };
    for (const bool prequantized : {false, true}) {
      Seen seen{std::vector<float>(ref.size(), -1.0f), std::vector<int>(static_cast<size_t>(rows), 0), out};
      lin.forward_int8(prequantized ? nullptr : x.data(), q.data(), scale.data(), rows, nullptr, Seen::run, &seen);
      EXPECT_EQ(0, std::memcmp(seen.y.data(), ref.data(), ref.size() * sizeof(float))) << rows << " " << prequantized;
      for (int64_t r = 0; r < rows; ++r) ASSERT_EQ(seen.count[static_cast<size_t>(r)], 1) << "row " << r;
      std::vector<float> y(ref.size());  // into y: the rows handed to finish are y's own
      Seen in_y{std::vector<float>(ref.size()), std::vector<int>(static_cast<size_t>(rows), 0), out};
      lin.forward_int8(prequantized ? nullptr : x.data(), q.data(), scale.data(), rows, y.data(), Seen::run, &in_y);
      EXPECT_EQ(0, std::memcmp(y.data(), ref.data(), ref.size() * sizeof(float)));
      EXPECT_EQ(0, std::memcmp(in_y.y.data(), ref.data(), ref.size() * sizeof(float)));
    }
  }
}

// Outlier channels multiplied in f32 (with_f32_channels): the int8 part is the plain int8 Linear
// of the other channels (its bound and noise, from a row scale without the outliers), and the f32
// channels add their exact contribution.
TEST(LinearInt8, F32ChannelsTakeOutliersOutOfTheRowScale) {
  const int64_t rows = 64, in = 96, out = 80;
  auto x = normal_vec(static_cast<size_t>(rows * in), 31, 1.0f);
  const std::vector<int64_t> outliers = {3, 17, 50};
  for (int64_t k : outliers)
    for (int64_t r = 0; r < rows; ++r) x[r * in + k] = 40.0f * x[r * in + k] + 20.0f;
  const auto w = normal_vec(static_cast<size_t>(out * in), 32, 0.02f);
  const auto b = normal_vec(static_cast<size_t>(out), 33, 0.02f);
  const Linear plain = int8_linear(w, b, out, in, ops::Activation::Identity);
  const Linear lin = plain.with_f32_channels(tensor_of(w, {out, in}), outliers);
  EXPECT_EQ(lin.f32_channels(), outliers);
  EXPECT_TRUE(plain.f32_channels().empty());
  std::vector<float> y(static_cast<size_t>(rows * out)), y_plain(y.size());
  lin.forward(x.data(), rows, y.data());
  plain.forward(x.data(), rows, y_plain.data());
  std::vector<float> rest = x;
  for (int64_t k : outliers)
    for (int64_t r = 0; r < rows; ++r) rest[r * in + k] = 0.0f;
  Reference ref = reference(rest, rows, in, w, b, out, std::vector<double>(in, 1.0));
  const Reference exact = reference(x, rows, in, w, b, out, std::vector<double>(in, 1.0));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < out; ++c) {
      double mag = 0;
      for (int64_t k : outliers) mag += std::fabs(double(x[r * in + k]) * w[c * in + k]);
      ref.y[r * out + c] = exact.y[r * out + c];
      ref.bound[r * out + c] += 1e-5 * mag;  // the f32 products and sums
    }
  EXPECT_LE(worst_ratio(y, ref), 1.0);
  const double m = mse_ratio(y, ref);
  EXPECT_GT(m, 0.7);
  EXPECT_LT(m, 1.4);
  double e = 0, ep = 0;  // and much closer to x·Wᵀ + b than without
  for (size_t i = 0; i < y.size(); ++i) {
    e += (y[i] - exact.y[i]) * (y[i] - exact.y[i]);
    ep += (y_plain[i] - exact.y[i]) * (y_plain[i] - exact.y[i]);
  }
  EXPECT_LT(e * 100, ep);
  // A NaN in an f32 channel makes its row NaN, as f32 would.
  x[5 * in + 17] = std::numeric_limits<float>::quiet_NaN();
  lin.forward(x.data(), rows, y.data());
  for (int64_t c = 0; c < out; ++c) EXPECT_TRUE(std::isnan(y[5 * out + c]));
  EXPECT_TRUE(std::isfinite(y[4 * out]));
}

TEST(LinearInt8, RecordsInputAbsmaxAndRejectsBadF32Channels) {
  const int64_t rows = 70, in = 24, out = 8;  // 70 rows: row-block tasks
  const auto x = normal_vec(static_cast<size_t>(rows * in), 41, 1.0f);
  const auto w = normal_vec(static_cast<size_t>(out * in), 42, 0.1f);
  const Linear lin = int8_linear(w, {}, out, in);
  EXPECT_TRUE(lin.input_absmax().empty());
  const Linear rec = lin.recording_input_absmax();
  EXPECT_EQ(rec.input_absmax(), std::vector<float>(static_cast<size_t>(in), 0.0f));
  std::vector<float> y(static_cast<size_t>(rows * out)), y0(y.size());
  rec.forward(x.data(), rows / 2, y.data());
  std::vector<int8_t> q(static_cast<size_t>(rows * in));
  std::vector<float> scale(static_cast<size_t>(rows));
  rec.quantize_input(x.data() + rows / 2 * in, rows - rows / 2, q.data(), scale.data());
  std::vector<float> expect(static_cast<size_t>(in), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k = 0; k < in; ++k) expect[k] = std::max(expect[k], std::fabs(x[r * in + k]));
  EXPECT_EQ(rec.input_absmax(), expect);
  lin.forward(x.data(), rows / 2, y0.data());  // recording changes no result
  EXPECT_EQ(0, std::memcmp(y.data(), y0.data(), static_cast<size_t>(rows / 2 * out) * sizeof(float)));
  const Tensor wt = tensor_of(w, {out, in});
  EXPECT_THROW(lin.with_f32_channels(wt, {in}), Error);
  EXPECT_THROW(lin.with_f32_channels(wt, {-1}), Error);
  EXPECT_THROW(lin.with_f32_channels(wt, {2, 2}), Error);
  EXPECT_THROW(lin.with_f32_channels(tensor_of(w, {in, out}), {2}), Error);
  EXPECT_THROW(Linear(wt, Tensor()).with_f32_channels(wt, {2}), Error);
}

TEST(LinearInt8, RejectsBadSmoothing) {
  const auto w = normal_vec(16, 15, 0.1f);
  EXPECT_THROW(Linear(tensor_of(w, {4, 4}), Tensor(), ops::Activation::Identity, ops::GemmType::Int8,
                      Tensor::zeros(DType::F32, {3})),
               Error);
  EXPECT_THROW(Linear(tensor_of(w, {4, 4}), Tensor(), ops::Activation::Identity, ops::GemmType::F32,
                      Tensor::zeros(DType::F32, {4})),
               Error);
}

}  // namespace
