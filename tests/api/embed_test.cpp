// Model::embed / Model::pool: every pooling against pooling computed here from the golden
// last_hidden_state, normalization, and the sentence-transformers folder defaults.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include <unistd.h>

#include <fstream>

#include "api_test_util.h"

namespace bertcpp::apitest {
namespace {
namespace fs = std::filesystem;

// Pooling written out independently of the library: [hidden] for row b of the golden batch.
std::vector<double> reference_pool(const Tensor& h, const Tensor& mask, int64_t b, Pooling p, bool normalize) {
  const int64_t S = h.dim(1), H = h.dim(2);
  const float* hp = h.data<float>() + b * S * H;
  const int64_t* mp = mask.data<int64_t>() + b * S;
  std::vector<double> v(static_cast<size_t>(H), p == Pooling::Max ? -INFINITY : 0.0);
  int64_t n = 0;
  for (int64_t s = 0; s < S; ++s) {
    if (p == Pooling::Cls && s > 0) break;
    if (mp[s] != 1) continue;
    ++n;
    for (int64_t k = 0; k < H; ++k) {
      const double x = hp[s * H + k];
      if (p == Pooling::Max) v[k] = std::max(v[k], x);
      else v[k] += x;
    }
  }
  if (p == Pooling::Mean)
    for (double& x : v) x /= static_cast<double>(n);
  if (normalize) {
    double ss = 0;
    for (double x : v) ss += x * x;
    for (double& x : v) x /= std::sqrt(ss);
  }
  return v;
}

struct PoolCase {
  std::string model;
  Pooling pooling;
  bool normalize;
};

class EmbedVsGolden : public ::testing::TestWithParam<PoolCase> {};

TEST_P(EmbedVsGolden, EmbedOfTheBatchTextsEqualsPoolingOfTheGoldenHiddenStates) {
  const PoolCase& pc = GetParam();
  const Model& m = load(pc.model);
  const Golden g(pc.model);
  const auto texts = g.texts("batch");
  const Tensor e = m.embed(texts, pc.pooling, pc.normalize);
  const Tensor h = g.get("batch.last_hidden_state");
  const Tensor mask = g.ids("batch.attention_mask");
  const int64_t H = m.config().hidden_size;
  ASSERT_EQ(e.shape(), (Shape{static_cast<int64_t>(texts.size()), H}));
  for (int64_t b = 0; b < e.dim(0); ++b) {
    const auto ref = reference_pool(h, mask, b, pc.pooling, pc.normalize);
    double worst = 0, norm = 0;
    for (int64_t k = 0; k < H; ++k) {
      worst = std::max(worst, std::abs(ref[k] - e.data<float>()[b * H + k]));
      norm += double(e.data<float>()[b * H + k]) * e.data<float>()[b * H + k];
    }
    EXPECT_LE(worst, 1e-4) << "text " << b;
    if (pc.normalize) { EXPECT_NEAR(std::sqrt(norm), 1.0, 1e-5) << "text " << b; }
  }
  // Model::pool on the golden tensors is the same computation without forward().
  const Tensor pooled = Model::pool(h, mask, pc.pooling, pc.normalize);
  for (int64_t b = 0; b < pooled.dim(0); ++b) {
    const auto ref = reference_pool(h, mask, b, pc.pooling, pc.normalize);
    for (int64_t k = 0; k < H; ++k) EXPECT_NEAR(ref[k], pooled.data<float>()[b * H + k], 1e-6);
  }
}

std::vector<PoolCase> pool_cases() {
  std::vector<PoolCase> out;
  for (const auto& m : golden_models())
    for (Pooling p : {Pooling::Cls, Pooling::Mean, Pooling::Max})
      for (bool n : {false, true}) out.push_back({m, p, n});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Api, EmbedVsGolden, ::testing::ValuesIn(pool_cases()), [](const auto& info) {
  std::string s = info.param.model + (info.param.pooling == Pooling::Cls ? "_cls" : info.param.pooling == Pooling::Mean ? "_mean" : "_max") +
                  (info.param.normalize ? "_norm" : "");
  for (char& c : s)
    if (c == '-') c = '_';
  return s;
});

// sentence-transformers' other modes on a hand-made batch: row 0 left-padded, row 1 right-padded.
TEST(Pool, MeanSqrtLenWeightedMeanLastTokenAndClsOnPaddedRows) {
  Tensor h = Tensor::empty(DType::F32, {2, 3, 1});
  const float hv[] = {100, 2, 4, 3, 5, 100};
  std::copy(hv, hv + 6, h.data<float>());
  Tensor m = Tensor::empty(DType::I64, {2, 3});
  const int64_t mv[] = {0, 1, 1, 1, 1, 0};
  std::copy(mv, mv + 6, m.data<int64_t>());
  auto at = [&](Pooling p, int row) { return Model::pool(h, m, p, false).data<float>()[row]; };
  EXPECT_FLOAT_EQ(at(Pooling::MeanSqrtLen, 0), static_cast<float>(6 / std::sqrt(2.0)));
  EXPECT_FLOAT_EQ(at(Pooling::MeanSqrtLen, 1), static_cast<float>(8 / std::sqrt(2.0)));
  EXPECT_FLOAT_EQ(at(Pooling::WeightedMean, 0), (1 * 2.f + 2 * 4.f) / 3);  // weights count from the first real token
  EXPECT_FLOAT_EQ(at(Pooling::WeightedMean, 1), (1 * 3.f + 2 * 5.f) / 3);
  EXPECT_FLOAT_EQ(at(Pooling::LastToken, 0), 4.f);
  EXPECT_FLOAT_EQ(at(Pooling::LastToken, 1), 5.f);
  EXPECT_FLOAT_EQ(at(Pooling::Cls, 0), 2.f);
  EXPECT_FLOAT_EQ(at(Pooling::Cls, 1), 3.f);
  for (Pooling p : {Pooling::MeanSqrtLen, Pooling::WeightedMean, Pooling::LastToken})
    EXPECT_EQ(parse_pooling(pooling_name(p)), p);
}

TEST(Embed, DefaultsAreMeanWithoutNormalization) {
  const Model& m = load("tiny-bert");
  const std::vector<std::string> texts{"Hello, world!"};
  const Tensor d = m.embed(texts);
  const Tensor mean = m.embed(texts, Pooling::Mean, false);
  EXPECT_LE(max_abs_diff(mean, d), 0.0);
}

TEST(Embed, EmptyInputGivesZeroRows) {
  const Model& m = load("tiny-bert");
  const Tensor e = m.embed(std::vector<std::string>{});
  EXPECT_EQ(e.shape(), (Shape{0, 32}));
}

TEST(Embed, ManyTextsKeepTheirOrderAcrossChunks) {
  const Model& m = load("tiny-bert");
  std::vector<std::string> texts;
  for (int i = 0; i < 70; ++i) texts.push_back(std::string(static_cast<size_t>(i % 7 + 1), 'a' + static_cast<char>(i % 26)) + " word " + std::to_string(i));
  const Tensor all = m.embed(texts, Pooling::Mean, false);
  for (int i : {0, 33, 69}) {
    const Tensor one = m.embed(std::vector<std::string>{texts[i]}, Pooling::Mean, false);
    for (int64_t k = 0; k < 32; ++k) EXPECT_NEAR(all.data<float>()[i * 32 + k], one.data<float>()[k], 1e-5) << i;
  }
}

// A sentence-transformers folder around tiny-bert: CLS pooling, Normalize, max_seq_length 8.
class SentenceTransformersFolder : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("bertcpp_st_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "1_Pooling");
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
      fs::copy_file(model_path("tiny-bert") / f, dir_ / f);
    write("modules.json",
          R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
              {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
              {"idx":2,"name":"2","path":"2_Normalize","type":"sentence_transformers.models.Normalize"}])");
    write("1_Pooling/config.json",
          R"({"word_embedding_dimension":32,"pooling_mode_cls_token":true,"pooling_mode_mean_tokens":false,
              "pooling_mode_max_tokens":false,"pooling_mode_mean_sqrt_len_tokens":false})");
    write("sentence_bert_config.json", R"({"max_seq_length":8,"do_lower_case":false})");
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  fs::path dir_;
};

TEST_F(SentenceTransformersFolder, SetsPoolingNormalizationAndMaxSeqLength) {
  const Model m = Model::from_pretrained(dir_.string());
  EXPECT_EQ(m.default_pooling(), Pooling::Cls);
  EXPECT_TRUE(m.default_normalize());
  EXPECT_EQ(m.max_seq_length(), 8);

  const std::string text = "Replace me by any text you'd like.";  // 12 tokens with [CLS]/[SEP]
  const Tensor e = m.embed(std::vector<std::string>{text});
  // Reference: the first 8 tokens ([CLS] + 6 + [SEP]) through forward, CLS vector, L2-normalized.
  EncodeOptions o;
  o.truncation = Truncation::LongestFirst;
  o.max_length = 8;
  const Encoding enc = m.tokenizer().encode(text, o);
  ASSERT_EQ(enc.size(), 8u);
  const ModelOutput out = m.forward(Batch::from_encodings(std::vector<Encoding>{enc}));
  std::vector<double> cls(out.last_hidden_state.data<float>(), out.last_hidden_state.data<float>() + 32);
  double ss = 0;
  for (double x : cls) ss += x * x;
  double worst = 0;
  for (int k = 0; k < 32; ++k) worst = std::max(worst, std::abs(cls[k] / std::sqrt(ss) - e.data<float>()[k]));
  EXPECT_LE(worst, 1e-6);
  // Explicit arguments override the folder's defaults.
  const Tensor mean = m.embed(std::vector<std::string>{text}, Pooling::Mean, false);
  const Tensor mean_ref = Model::pool(out.last_hidden_state, Batch::from_encodings(std::vector<Encoding>{enc}).attention_mask, Pooling::Mean, false);
  EXPECT_LE(max_abs_diff(mean_ref, mean), 1e-6);
}

TEST_F(SentenceTransformersFolder, UnsupportedModulesMakeEmbedFail) {
  write("modules.json",
        R"([{"idx":0,"name":"0","path":"","type":"sentence_transformers.models.Transformer"},
            {"idx":1,"name":"1","path":"1_Pooling","type":"sentence_transformers.models.Pooling"},
            {"idx":2,"name":"2","path":"2_LSTM","type":"sentence_transformers.models.LSTM"}])");
  const Model m = Model::from_pretrained(dir_.string());
  expect_error([&] { m.embed(std::vector<std::string>{"x"}); }, ErrorKind::Unsupported, "LSTM");
  EXPECT_TRUE(m.forward(Batch::from_encodings(std::vector<Encoding>{m.tokenizer().encode("x")})).last_hidden_state.defined());
}

TEST_F(SentenceTransformersFolder, MalformedConfigsAreInvalidFile) {
  write("sentence_bert_config.json", R"({"max_seq_length":"eight"})");
  expect_error([&] { Model::from_pretrained(dir_.string()); }, ErrorKind::InvalidFile, "max_seq_length");
  write("sentence_bert_config.json", R"({"max_seq_length":100000})");
  expect_error([&] { Model::from_pretrained(dir_.string()); }, ErrorKind::InvalidFile, "max_position_embeddings");
  write("sentence_bert_config.json", R"({"max_seq_length":8})");
  write("modules.json", R"([{"idx":1,"path":"../../etc","type":"sentence_transformers.models.Pooling"}])");
  expect_error([&] { Model::from_pretrained(dir_.string()); }, ErrorKind::InvalidFile, "leaves the model folder");
  write("modules.json", "{not json");
  expect_error([&] { Model::from_pretrained(dir_.string()); }, ErrorKind::InvalidFile, "modules.json");
}

// sentence-transformers' do_lower_case is Python's str.lower() of the whole text: İ -> i + U+0307,
// a final Σ -> ς (the expected strings are Python's own output for these texts).
TEST_F(SentenceTransformersFolder, DoLowerCaseIsPythonsStrLower) {
  write("tokenizer_config.json", R"({"do_lower_case": false})");
  write("sentence_bert_config.json", R"({"max_seq_length":32,"do_lower_case":true})");
  const Tensor lowered = Model::from_pretrained(dir_.string()).embed(std::vector<std::string>{"İSTANBUL ΟΔΟΣ Σ"});
  write("sentence_bert_config.json", R"({"max_seq_length":32,"do_lower_case":false})");
  const Model plain = Model::from_pretrained(dir_.string());
  EXPECT_EQ(max_abs_diff(plain.embed(std::vector<std::string>{"i\u0307stanbul οδος σ"}), lowered), 0.0);
  EXPECT_GT(max_abs_diff(plain.embed(std::vector<std::string>{"istanbul οδοσ σ"}), lowered), 1e-3);
}

}  // namespace
}  // namespace bertcpp::apitest
