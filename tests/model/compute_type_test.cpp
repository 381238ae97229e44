// Reduced-precision compute types agree with fp32 closely enough for embeddings.
#include <gtest/gtest.h>

#include <cmath>

#include "golden_util.h"
#include "model/bert.h"

using namespace bertcpp;

namespace {

// Cosine of two [B, S, H] tensors over the real (mask 1) positions, flattened.
double masked_cosine(const Tensor& a, const Tensor& b, const Tensor& mask) {
  const int64_t positions = mask.numel(), H = a.dim(-1);
  double dot = 0, na = 0, nb = 0;
  for (int64_t p = 0; p < positions; ++p) {
    if (mask.data<int64_t>()[p] == 0) continue;
    for (int64_t h = 0; h < H; ++h) {
      const double x = a.data<float>()[p * H + h], y = b.data<float>()[p * H + h];
      dot += x * y;
      na += x * x;
      nb += y * y;
    }
  }
  return dot / std::sqrt(na * nb);
}

}  // namespace

TEST(ComputeType, Bf16LastHiddenStateCosineVsF32) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    ModelOptions bf16;
    bf16.compute = ComputeType::BF16;
    std::unique_ptr<model::Bert> low;
    try {
      low = model::Bert::load(dir, bf16);
    } catch (const Error& e) {
      if (e.kind() == ErrorKind::Unsupported) GTEST_SKIP() << e.what();
      throw;
    }
    auto ref = model::Bert::load(dir, ModelOptions{});
    const bertcpp::testing::Golden g(dir);
    for (const char* c : {"single", "batch"}) {
      if (!g.has(c, "input_ids")) continue;
      const Batch batch = g.batch(c);
      const Tensor a = ref->forward(batch, {}).last_hidden_state;
      const Tensor b = low->forward(batch, {}).last_hidden_state;
      EXPECT_GE(masked_cosine(a, b, batch.attention_mask), 0.999) << c;
      EXPECT_LE(bertcpp::testing::max_abs_diff(a, b, batch.attention_mask), 0.5) << c;
    }
  }
}

TEST(ComputeType, Int8IsRejectedClearly) {
  ModelOptions o;
  o.compute = ComputeType::Int8;
  try {
    model::Bert::load(bertcpp::testing::model_dir("tiny-bert"), o);
    ADD_FAILURE() << "int8 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported) << e.what();
  }
}
