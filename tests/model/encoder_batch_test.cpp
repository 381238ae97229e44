// A padded batch gives each text's own results at its non-padded positions; bad inputs raise
// InvalidArgument naming the value; thread settings and concurrent calls agree.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>

#include "golden_util.h"
#include "model/encoder.h"

using namespace bertcpp;
using bertcpp::testing::Golden;
using bertcpp::testing::max_abs_diff;

namespace {

Tensor row_of(const Tensor& t, int64_t b, int64_t len) {
  Tensor r = Tensor::empty(t.dtype(), {1, len});
  std::memcpy(r.raw(), static_cast<const char*>(t.raw()) + b * t.dim(1) * 8, static_cast<size_t>(len) * 8);
  return r;
}

Tensor i64(Shape s, std::vector<int64_t> v) {
  Tensor t = Tensor::empty(DType::I64, std::move(s));
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}

void expect_invalid(const model::Encoder& bert, const model::Input& b, const std::string& needle) {
  try {
    bert.forward(b, {});
    ADD_FAILURE() << "no error; expected one mentioning '" << needle << "'";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(BertBatch, PaddedBatchEqualsEachTextAlone) {
  for (const char* name : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16"}) {
    SCOPED_TRACE(name);
    const auto dir = bertcpp::testing::model_dir(name);
    auto bert = model::Encoder::load(dir, model::Options{});
    const Golden g(dir);
    const model::Input batch = g.batch("batch");
    const model::Output all = bert->forward(batch, {});
    const int64_t B = batch.batch_size(), S = batch.seq_len(), H = bert->config().hidden_size;
    int64_t padded_rows = 0;
    for (int64_t b = 0; b < B; ++b) {
      int64_t len = 0;
      for (int64_t s = 0; s < S; ++s) len += batch.attention_mask.data<int64_t>()[b * S + s];
      padded_rows += len < S;
      model::Input one{row_of(batch.input_ids, b, len), row_of(batch.attention_mask, b, len), row_of(batch.token_type_ids, b, len)};
      const model::Output o = bert->forward(one, {});
      Tensor mine = Tensor::empty(DType::F32, {1, len, H});
      std::memcpy(mine.raw(), all.last_hidden_state.data<float>() + b * S * H, static_cast<size_t>(len * H) * 4);
      EXPECT_LE(max_abs_diff(o.last_hidden_state, mine), 1e-5) << "text " << b;
      Tensor pooled = Tensor::empty(DType::F32, {1, H});
      std::memcpy(pooled.raw(), all.pooler_output.data<float>() + b * H, static_cast<size_t>(H) * 4);
      EXPECT_LE(max_abs_diff(o.pooler_output, pooled), 1e-5) << "text " << b;
    }
    EXPECT_GT(padded_rows, 0) << "the batch case should contain padding";
  }
}

TEST(BertBatch, MissingMaskAndTokenTypesMeanOnesAndZeros) {
  auto bert = model::Encoder::load(bertcpp::testing::model_dir("tiny-bert"), model::Options{});
  const Golden g(bertcpp::testing::model_dir("tiny-bert"));
  model::Input b = g.batch("single");  // all-ones mask, all-zero token types
  model::Input bare;
  bare.input_ids = b.input_ids;
  EXPECT_LE(max_abs_diff(g.get("single", "last_hidden_state"), bert->forward(bare, {}).last_hidden_state), 1e-4);
}

TEST(BertBatch, ThreadCountsAndConcurrentCallsAgree) {
  const auto dir = bertcpp::testing::model_dir("tiny-bert");
  const Golden g(dir);
  const model::Input batch = g.batch("batch");
  model::Options one;
  one.threads = 1;
  auto a = model::Encoder::load(dir, one);
  auto b = model::Encoder::load(dir, model::Options{});
  const Tensor ref = a->forward(batch, {}).last_hidden_state;
  EXPECT_LE(max_abs_diff(ref, b->forward(batch, {}).last_hidden_state, batch.attention_mask), 1e-5);
  std::vector<double> diffs(3, INFINITY);
  std::vector<std::thread> ts;
  for (int t = 0; t < 3; ++t)
    ts.emplace_back([&, t] { diffs[t] = max_abs_diff(ref, b->forward(batch, {}).last_hidden_state, batch.attention_mask); });
  for (auto& t : ts) t.join();
  for (double d : diffs) EXPECT_LE(d, 1e-5);
}

TEST(BertInput, BadInputsAreInvalidArgumentsNamingTheValue) {
  auto bert = model::Encoder::load(bertcpp::testing::model_dir("tiny-bert-pretraining-f16"), model::Options{});
  // vocab 30522, max_position_embeddings 64, type_vocab_size 2
  expect_invalid(*bert, model::Input{i64({1, 3}, {101, 30522, 102}), {}, {}}, "30522");
  expect_invalid(*bert, model::Input{i64({1, 3}, {101, -5, 102}), {}, {}}, "-5");
  expect_invalid(*bert, model::Input{Tensor::zeros(DType::I64, {1, 65}), {}, {}}, "65");
  expect_invalid(*bert, model::Input{i64({1, 2}, {101, 102}), {}, i64({1, 2}, {0, 2})}, "token_type_ids[0, 1] = 2");
  expect_invalid(*bert, model::Input{i64({1, 2}, {101, 102}), i64({1, 3}, {1, 1, 1}), {}}, "attention_mask");
  expect_invalid(*bert, model::Input{i64({1, 2}, {101, 102}), i64({1, 2}, {1, 7}), {}}, "7");
  expect_invalid(*bert, model::Input{i64({1, 2}, {101, 102}), {}, i64({2, 1}, {0, 0})}, "token_type_ids");
  expect_invalid(*bert, model::Input{Tensor::zeros(DType::I32, {1, 2}), {}, {}}, "I32");
  expect_invalid(*bert, model::Input{Tensor::zeros(DType::I64, {2}), {}, {}}, "[2]");
  expect_invalid(*bert, model::Input{Tensor::zeros(DType::I64, {0, 4}), {}, {}}, "empty");
  expect_invalid(*bert, model::Input{}, "input_ids");
  // Still works afterwards.
  EXPECT_EQ(bert->forward(model::Input{i64({1, 2}, {101, 102}), {}, {}}, {}).last_hidden_state.shape(), (Shape{1, 2, 48}));
}
