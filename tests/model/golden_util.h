// Helpers shared by the model tests: goldens from expected.safetensors (max |Δ| is support/compare.h).
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
#include "support/compare.h"

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
