// Helpers shared by the model tests: goldens from expected.safetensors and max |Δ| comparisons.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "bertcpp/model.hpp"
#include "model/types.h"
#include "io/checkpoint.h"

namespace bertcpp::testing {

inline std::filesystem::path model_dir(const std::string& name) {
  return std::filesystem::path(BERTCPP_TEST_DATA) / "models" / name;
}

struct Golden {
  io::Checkpoint file;
  explicit Golden(const std::filesystem::path& dir) : file(io::Checkpoint::open(dir / "expected.safetensors")) {}
  bool has(const std::string& c, const std::string& out) const { return file.contains(c + "." + out); }
  Tensor get(const std::string& c, const std::string& out) const { return file.get(c + "." + out); }
  model::Input batch(const std::string& c) const {
    model::Input b;
    b.input_ids = get(c, "input_ids");
    b.attention_mask = get(c, "attention_mask");
    if (has(c, "token_type_ids")) b.token_type_ids = get(c, "token_type_ids");  // absent for families without types
    return b;
  }
};

// max |expected - actual| over all elements; with `mask` [B, S] (I64) and tensors [B, S, ...],
// only positions where mask is 1. Fails the test (and returns +inf) on a shape mismatch.
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
  const float* pe = e.data<float>();
  const float* pa = a.data<float>();
  const int64_t n = e.numel();
  int64_t inner = 1, positions = n;
  const int64_t* m = nullptr;
  if (mask.defined()) {
    positions = mask.numel();
    inner = n / positions;
    m = mask.data<int64_t>();
  }
  double worst = 0;
  for (int64_t p = 0; p < positions; ++p) {
    if (m && m[p] != 1) continue;
    for (int64_t i = p * inner; i < (p + 1) * inner; ++i) {
      const double d = std::abs(double(pe[i]) - double(pa[i]));
      if (!(d <= worst)) worst = std::isnan(d) ? INFINITY : d;
    }
  }
  return worst;
}

// Stacks equally shaped tensors along a new first dim (hidden_states / attentions as goldens store them).
inline Tensor stack(const std::vector<Tensor>& ts) {
  if (ts.empty()) return Tensor();
  Shape s = ts[0].shape();
  s.insert(s.begin(), static_cast<int64_t>(ts.size()));
  Tensor out = Tensor::empty(DType::F32, s);
  float* p = out.data<float>();
  for (const Tensor& t : ts) {
    if (t.shape() != ts[0].shape()) return Tensor();
    std::copy(t.data<float>(), t.data<float>() + t.numel(), p);
    p += t.numel();
  }
  return out;
}

}  // namespace bertcpp::testing
