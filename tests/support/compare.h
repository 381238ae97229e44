// max |expected - actual| comparisons shared by every test layer; a NaN anywhere counts as +inf.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "bertcpp/tensor.h"

namespace bertcpp::testing {

// Over two equally long indexable ranges (vectors, spans) of any arithmetic types.
template <class A, class B> double max_abs_diff(const A& a, const B& b) {
  double worst = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double d = std::abs(double(a[i]) - double(b[i]));
    if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
  }
  return worst;
}

// Over all elements; with `mask` [B, S] and tensors [B, S, ...], only positions where mask is 1.
// Fails the test (and returns +inf) when `actual` is missing or its shape differs.
inline double max_abs_diff(const Tensor& expected, const Tensor& actual, const Tensor& mask = Tensor()) {
  if (!actual.defined()) {
    ADD_FAILURE() << "output missing; expected " << shape_to_string(expected.shape());
    return INFINITY;
  }
  if (expected.shape() != actual.shape()) {
    ADD_FAILURE() << "shape " << shape_to_string(actual.shape()) << " != expected " << shape_to_string(expected.shape());
    return INFINITY;
  }
  const Tensor e = expected.to_f32(), a = actual.to_f32();
  const Tensor m = mask.defined() ? mask.to_f32() : Tensor();
  const float* pe = e.data<float>();
  const float* pa = a.data<float>();
  const int64_t n = e.numel();
  const int64_t positions = m.defined() ? m.numel() : n;
  const int64_t inner = n / positions;
  double worst = 0;
  for (int64_t p = 0; p < positions; ++p) {
    if (m.defined() && m.data<float>()[p] != 1.f) continue;
    for (int64_t i = p * inner; i < (p + 1) * inner; ++i) {
      const double d = std::abs(double(pe[i]) - double(pa[i]));
      if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
  }
  return worst;
}

}  // namespace bertcpp::testing
