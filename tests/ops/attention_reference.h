// What the attention kernel is tested against: attention in double,
// softmax(Q·Kᵀ / divisor − slope_h·|i − j| + mask_j) · V per head over a packed [rows, 3·H] Q|K|V;
// with window ≥ 0 row i sees only keys |i − j| ≤ window; and its batch/thread determinism check.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "ops/attention.h"
#include "ops/threads.h"
#include "support/random.h"

namespace bertcpp::testing {

struct NaiveAttention {
  const float* qkv = nullptr;
  int64_t keys = 0, heads = 0, d = 0;
  double divisor = 1;
  const float* mask = nullptr;    // [keys] additive, or none
  int64_t window = -1;            // -1: every key
  const float* slopes = nullptr;  // [heads] ALiBi slopes, or none

  // Context row i ([heads·d]) and, when `probs` is given, its probabilities [heads][keys].
  std::vector<double> row(int64_t i, std::vector<double>* probs = nullptr) const {
    const int64_t H = heads * d;
    std::vector<double> ctx(static_cast<size_t>(H));
    if (probs) probs->assign(static_cast<size_t>(heads * keys), 0.0);
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<double> s(static_cast<size_t>(keys), -INFINITY);
      double mx = -INFINITY, sum = 0;
      for (int64_t j = 0; j < keys; ++j) {
        if (window >= 0 && std::abs(i - j) > window) continue;
        double acc = 0;
        for (int64_t k = 0; k < d; ++k) acc += double(qkv[i * 3 * H + h * d + k]) * qkv[j * 3 * H + H + h * d + k];
        const double alibi = slopes ? -double(slopes[h]) * double(std::abs(i - j)) : 0.0;
        s[static_cast<size_t>(j)] = acc / divisor + alibi + (mask ? double(mask[j]) : 0.0);
        mx = std::max(mx, s[static_cast<size_t>(j)]);
      }
      for (double& v : s) sum += (v = std::exp(v - mx));
      for (double& v : s) v /= sum;
      if (probs) std::copy(s.begin(), s.end(), probs->begin() + h * keys);
      for (int64_t k = 0; k < d; ++k) {
        double acc = 0;
        for (int64_t j = 0; j < keys; ++j) acc += s[static_cast<size_t>(j)] * qkv[j * 3 * H + 2 * H + h * d + k];
        ctx[static_cast<size_t>(h * d + k)] = acc;
      }
    }
    return ctx;
  }

  // Context [rows, heads·d] and, when asked, probabilities [heads, rows, keys] (the kernel's layout).
  std::vector<double> all(int64_t rows, std::vector<double>* probs = nullptr) const {
    const int64_t H = heads * d;
    std::vector<double> ctx;
    ctx.reserve(static_cast<size_t>(rows * H));
    if (probs) probs->assign(static_cast<size_t>(heads * rows * keys), 0.0);
    std::vector<double> p;
    for (int64_t i = 0; i < rows; ++i) {
      const auto r = row(i, probs ? &p : nullptr);
      ctx.insert(ctx.end(), r.begin(), r.end());
      if (probs)
        for (int64_t h = 0; h < heads; ++h)
          std::copy(p.begin() + h * keys, p.begin() + (h + 1) * keys, probs->begin() + (h * rows + i) * keys);
    }
    return ctx;
  }
};

// One text alone, then beside two others of other lengths, with 1 and 2 threads: its context rows
// must be bitwise equal (the determinism the model promises). `lens[0]` is the text checked.
inline void expect_rows_independent_of_batch_and_threads(int64_t heads, int64_t d, const int64_t (&lens)[3],
                                                         uint32_t seed, int64_t window = -1,
                                                         const float* slopes = nullptr, bool bf16 = false) {
  const int64_t H = heads * d;
  std::vector<std::vector<float>> qkv, ctx;
  for (int t = 0; t < 3; ++t) {
    qkv.push_back(random_vec(static_cast<size_t>(lens[t] * 3 * H), seed + static_cast<uint32_t>(t), -2.0f, 2.0f));
    ctx.emplace_back(static_cast<size_t>(lens[t] * H), NAN);
  }
  auto seq = [&](int t) {
    ops::AttentionSequence s;
    s.qkv = qkv[t].data();
    s.ctx = ctx[t].data();
    s.rows = s.keys = lens[t];
    s.window = window;
    s.alibi_slopes = slopes;
    return s;
  };
  const ops::AttentionShape shape{heads, d, 3 * H, H, std::sqrt(float(d)), bf16};
  ops::set_num_threads(1);
  ops::attention(shape, std::vector{seq(0)});
  const auto alone = ctx[0];
  ops::set_num_threads(2);
  std::fill(ctx[0].begin(), ctx[0].end(), NAN);
  ops::attention(shape, std::vector{seq(2), seq(0), seq(1)});
  EXPECT_EQ(std::memcmp(alone.data(), ctx[0].data(), alone.size() * sizeof(float)), 0)
      << heads << "x" << d << " window " << window << (slopes ? " alibi" : "") << (bf16 ? " bf16" : "");
  ops::set_num_threads(0);
}

}  // namespace bertcpp::testing
