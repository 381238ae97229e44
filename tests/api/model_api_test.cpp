// Model::from_pretrained + forward through the public API against the goldens of every model.
#include <gtest/gtest.h>

#include "api_test_util.h"
#include "bertcpp/bertcpp.hpp"

namespace bertcpp::apitest {
namespace {

class GoldenModel : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenModel, ForwardMatchesGoldenOnEveryCase) {
  const Model& m = load(GetParam());
  const Golden g(GetParam());
  for (const std::string c : {"single", "batch", "pair", "long"}) {
    SCOPED_TRACE(c);
    Batch b;
    b.input_ids = g.ids(c + ".input_ids");
    b.attention_mask = g.ids(c + ".attention_mask");
    b.token_type_ids = g.ids(c + ".token_type_ids");
    const ModelOutput o = m.forward(b);
    EXPECT_LE(max_abs_diff(g.get(c + ".last_hidden_state"), o.last_hidden_state, b.attention_mask), 1e-4);
    EXPECT_LE(max_abs_diff(g.get(c + ".pooler_output"), o.pooler_output), 1e-4);
    if (g.has(c + ".logits")) { EXPECT_LE(max_abs_diff(g.get(c + ".logits"), o.logits), 1e-4); }
    if (g.has(c + ".seq_relationship_logits")) {
      EXPECT_LE(max_abs_diff(g.get(c + ".seq_relationship_logits"), o.seq_relationship_logits), 1e-4);
    }
    if (g.has(c + ".prediction_logits")) {
      EXPECT_LE(max_abs_diff(g.get(c + ".prediction_logits"), o.prediction_logits), 1e-4);
    }
  }
}

// The model's own tokenizer + Batch::from_encodings reproduce the golden batches exactly
// (padding, attention mask, token types; truncation of the long case at max_position_embeddings).
TEST_P(GoldenModel, FromEncodingsBuildsTheGoldenBatches) {
  const Model& m = load(GetParam());
  const Golden g(GetParam());
  const Tokenizer& tok = m.tokenizer();
  auto expect_same = [&](const std::string& c, const std::vector<Encoding>& encs) {
    SCOPED_TRACE(c);
    const Batch b = Batch::from_encodings(encs, tok.pad_token_id());
    for (const std::string out : {"input_ids", "attention_mask", "token_type_ids"}) {
      const Tensor e = g.ids(c + "." + out);
      const Tensor& a = out == "input_ids" ? b.input_ids : out == "attention_mask" ? b.attention_mask : b.token_type_ids;
      ASSERT_EQ(shape_to_string(e.shape()), shape_to_string(a.shape())) << out;
      EXPECT_TRUE(std::equal(e.span<int64_t>().begin(), e.span<int64_t>().end(), a.span<int64_t>().begin())) << out;
    }
  };
  const auto batch_texts = g.texts("batch");
  expect_same("batch", tok.encode_batch(batch_texts));
  const auto [a, bb] = g.pair();
  expect_same("pair", {tok.encode_pair(a, bb)});
  EncodeOptions trunc;
  trunc.truncation = Truncation::LongestFirst;
  trunc.max_length = m.config().max_position_embeddings;
  expect_same("long", {tok.encode(g.texts("long")[0], trunc)});
}

TEST_P(GoldenModel, ConfigInfoAndHead) {
  const Model& m = load(GetParam());
  const ModelConfigInfo& c = m.config();
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(m.name(), model_path(GetParam()).string());
  if (GetParam() == "tiny-bert") {
    EXPECT_EQ(m.head(), "base");
    EXPECT_EQ(c.hidden_size, 32);
    EXPECT_EQ(c.num_hidden_layers, 2);
    EXPECT_EQ(c.num_attention_heads, 4);
    EXPECT_EQ(c.hidden_act, "gelu");
    EXPECT_TRUE(c.labels.empty());
    EXPECT_EQ(m.max_seq_length(), 512);
  } else if (GetParam() == "tiny-bert-classifier-bf16") {
    EXPECT_EQ(m.head(), "sequence_classification");
    EXPECT_EQ(c.labels, (std::vector<std::string>{"negative", "neutral", "positive"}));
    EXPECT_EQ(c.architectures, std::vector<std::string>{"BertForSequenceClassification"});
    EXPECT_EQ(m.max_seq_length(), 128);
  } else {
    EXPECT_EQ(m.head(), "pretraining");
    EXPECT_EQ(c.hidden_size, 48);
    EXPECT_EQ(c.hidden_act, "gelu_new");
    EXPECT_EQ(c.max_position_embeddings, 64);
    EXPECT_EQ(m.max_seq_length(), 64);
  }
  EXPECT_EQ(m.default_pooling(), Pooling::Mean);
  EXPECT_FALSE(m.default_normalize());
}

INSTANTIATE_TEST_SUITE_P(Api, GoldenModel, ::testing::ValuesIn(golden_models()),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& ch : s)
                             if (ch == '-') ch = '_';
                           return s;
                         });

TEST(ModelApi, OutputRequestHiddenStatesAndAttentions) {
  const Model& m = load("tiny-bert");
  const Golden g("tiny-bert");
  Batch b;
  b.input_ids = g.ids("single.input_ids");
  b.attention_mask = g.ids("single.attention_mask");
  OutputRequest r;
  r.hidden_states = r.attentions = true;
  const ModelOutput o = m.forward(b, r);
  ASSERT_EQ(o.hidden_states.size(), 3u);
  ASSERT_EQ(o.attentions.size(), 2u);
  const Tensor hs = g.get("single.hidden_states");
  const int64_t per = hs.numel() / 3;
  for (size_t l = 0; l < 3; ++l) {
    const Tensor e = Tensor::borrow(DType::F32, o.hidden_states[l].shape(), hs.data<float>() + l * per, nullptr);
    EXPECT_LE(max_abs_diff(e, o.hidden_states[l]), 1e-4) << "layer " << l;
  }
}

TEST(ModelApi, MissingFolderIsNotFound) {
  expect_error([] { Model::from_pretrained((model_path("tiny-bert") / "no-such-dir").string()); }, ErrorKind::NotFound, "");
  expect_error([] { Model::from_pretrained(""); }, ErrorKind::InvalidArgument, "empty");
  expect_error([] { Model::from_pretrained((model_path("tiny-bert") / "config.json").string()); }, ErrorKind::InvalidArgument,
               "is a file");
}

TEST(ModelApi, BadBatchesAreInvalidArgument) {
  const Model& m = load("tiny-bert");
  Batch b;
  expect_error([&] { m.forward(b); }, ErrorKind::InvalidArgument, "input_ids");
  b.input_ids = Tensor::zeros(DType::I64, {1, 4});
  b.input_ids.data<int64_t>()[1] = 30522;  // one past the vocabulary
  expect_error([&] { m.forward(b); }, ErrorKind::InvalidArgument, "30522");
  b.input_ids = Tensor::zeros(DType::I64, {1, 513});
  expect_error([&] { m.forward(b); }, ErrorKind::InvalidArgument, "max_position_embeddings");
  b.input_ids = Tensor::zeros(DType::I64, {1, 4});
  b.attention_mask = Tensor::zeros(DType::I64, {1, 3});
  expect_error([&] { m.forward(b); }, ErrorKind::InvalidArgument, "attention_mask");
  expect_error([] { Batch::from_encodings({}); }, ErrorKind::InvalidArgument, "no encodings");
}

TEST(ModelApi, UndefinedAttentionMaskMeansAllTokens) {
  const Model& m = load("tiny-bert");
  const Golden g("tiny-bert");
  Batch b;
  b.input_ids = g.ids("single.input_ids");
  EXPECT_LE(max_abs_diff(g.get("single.last_hidden_state"), m.forward(b).last_hidden_state), 1e-4);
}

TEST(ModelApi, TokenizerFromPretrainedReadsTheModelFolder) {
  const Tokenizer tok = Tokenizer::from_pretrained(model_path("tiny-bert").string());
  const Golden g("tiny-bert");
  const Encoding e = tok.encode(g.texts("single")[0]);
  const Tensor ids = g.ids("single.input_ids");
  EXPECT_EQ(e.input_ids, std::vector<int64_t>(ids.span<int64_t>().begin(), ids.span<int64_t>().end()));
}

}  // namespace
}  // namespace bertcpp::apitest
