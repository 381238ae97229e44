// The C API, used only through include/bertcpp/bertcpp.h (as a C program would), checked against
// the goldens and, for embeddings, against the C++ API.
#include "bertcpp/bertcpp.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "api_test_util.h"  // goldens and the C++ model for cross-checks only

namespace {

std::string dir(const char* name) { return std::string(BERTCPP_TEST_DATA) + "/models/" + name; }

TEST(CApi, VersionDefaultsAndLoadErrors) {
  EXPECT_STREQ(bertcpp_version(), "0.1.0");
  const bertcpp_model_params p = bertcpp_model_default_params();
  EXPECT_EQ(p.n_threads, 0);
  EXPECT_EQ(p.compute, BERTCPP_COMPUTE_F32);
  EXPECT_EQ(p.revision, nullptr);
  bertcpp_model* m = reinterpret_cast<bertcpp_model*>(0x1);
  EXPECT_EQ(bertcpp_model_load((dir("tiny-bert") + "/nope").c_str(), nullptr, &m), BERTCPP_ERR_NOT_FOUND);
  EXPECT_EQ(m, nullptr);
  EXPECT_NE(std::string(bertcpp_last_error()).find("nope"), std::string::npos) << bertcpp_last_error();
  EXPECT_EQ(bertcpp_model_load(nullptr, nullptr, &m), BERTCPP_ERR_INVALID_ARGUMENT);
  bertcpp_model_params bad = p;
  bad.compute = 42;
  EXPECT_EQ(bertcpp_model_load(dir("tiny-bert").c_str(), &bad, &m), BERTCPP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(bertcpp_last_error()).find("compute"), std::string::npos);
  bertcpp_model_free(nullptr);
  bertcpp_tokenizer_free(nullptr);
  EXPECT_EQ(bertcpp_model_hidden_size(nullptr), 0);
}

TEST(CApi, ForwardMatchesGolden) {
  bertcpp_model* m = nullptr;
  ASSERT_EQ(bertcpp_model_load(dir("tiny-bert").c_str(), nullptr, &m), BERTCPP_OK) << bertcpp_last_error();
  ASSERT_EQ(bertcpp_model_hidden_size(m), 32);
  const bertcpp::apitest::Golden g("tiny-bert");
  const bertcpp::Tensor ids = g.ids("batch.input_ids"), mask = g.ids("batch.attention_mask"), types = g.ids("batch.token_type_ids");
  const size_t B = static_cast<size_t>(ids.dim(0)), S = static_cast<size_t>(ids.dim(1));
  std::vector<float> out(B * S * 32);
  ASSERT_EQ(bertcpp_forward(m, ids.data<int64_t>(), mask.data<int64_t>(), types.data<int64_t>(), B, S, out.data(), out.size()),
            BERTCPP_OK)
      << bertcpp_last_error();
  const bertcpp::Tensor got = bertcpp::Tensor::borrow(bertcpp::DType::F32, {ids.dim(0), ids.dim(1), 32}, out.data(), nullptr);
  EXPECT_LE(bertcpp::apitest::max_abs_diff(g.get("batch.last_hidden_state"), got, mask), 1e-4);
  // Too small a buffer, bad ids: error codes, nothing thrown.
  EXPECT_EQ(bertcpp_forward(m, ids.data<int64_t>(), nullptr, nullptr, B, S, out.data(), out.size() - 1), BERTCPP_ERR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(bertcpp_last_error()).find("needed"), std::string::npos);
  const int64_t bad_ids[2] = {101, 99999};
  EXPECT_EQ(bertcpp_forward(m, bad_ids, nullptr, nullptr, 1, 2, out.data(), out.size()), BERTCPP_ERR_INVALID_ARGUMENT);
  // Hostile sizes are rejected before anything is read.
  EXPECT_EQ(bertcpp_forward(m, bad_ids, nullptr, nullptr, SIZE_MAX / 2, 2, out.data(), out.size()), BERTCPP_ERR_INVALID_ARGUMENT);
  bertcpp_model_free(m);
}

TEST(CApi, EmbedEqualsTheCppApiAndTokenizeReportsSizes) {
  bertcpp_model_params p = bertcpp_model_default_params();
  p.n_threads = 1;
  bertcpp_model* m = nullptr;
  ASSERT_EQ(bertcpp_model_load(dir("tiny-bert").c_str(), &p, &m), BERTCPP_OK) << bertcpp_last_error();
  const char* texts[] = {"Hello, world!", "café naïve résumé", "HeLLo WoRLD"};
  std::vector<float> out(3 * 32);
  ASSERT_EQ(bertcpp_embed(m, texts, 3, BERTCPP_POOLING_MEAN, 1, out.data(), out.size()), BERTCPP_OK) << bertcpp_last_error();
  const bertcpp::Model& cpp = bertcpp::apitest::load("tiny-bert");
  const bertcpp::Tensor ref = cpp.embed(std::vector<std::string>{texts[0], texts[1], texts[2]}, bertcpp::Pooling::Mean, true);
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], ref.data<float>()[i], 1e-6) << i;
  for (int r = 0; r < 3; ++r) {
    double ss = 0;
    for (int k = 0; k < 32; ++k) ss += double(out[r * 32 + k]) * out[r * 32 + k];
    EXPECT_NEAR(std::sqrt(ss), 1.0, 1e-5);
  }
  EXPECT_EQ(bertcpp_embed(m, texts, 3, BERTCPP_POOLING_CLS, -1, out.data(), 95), BERTCPP_ERR_INVALID_ARGUMENT);
  EXPECT_EQ(bertcpp_embed(m, texts, 3, 7, -1, out.data(), out.size()), BERTCPP_ERR_INVALID_ARGUMENT);

  bertcpp_tokenizer* t = nullptr;
  ASSERT_EQ(bertcpp_model_get_tokenizer(m, &t), BERTCPP_OK);
  bertcpp_model_free(m);  // the tokenizer handle stays valid on its own
  size_t n = 0;
  EXPECT_EQ(bertcpp_tokenize(t, "Replace me by any text you'd like.", 1, nullptr, 0, &n), BERTCPP_ERR_INVALID_ARGUMENT);
  ASSERT_EQ(n, 12u);
  std::vector<int64_t> ids(n);
  ASSERT_EQ(bertcpp_tokenize(t, "Replace me by any text you'd like.", 1, ids.data(), ids.size(), &n), BERTCPP_OK);
  const bertcpp::Tensor golden = bertcpp::apitest::Golden("tiny-bert").ids("single.input_ids");
  EXPECT_EQ(ids, std::vector<int64_t>(golden.span<int64_t>().begin(), golden.span<int64_t>().end()));
  ASSERT_EQ(bertcpp_tokenize(t, "Replace me", 0, ids.data(), ids.size(), &n), BERTCPP_OK);
  EXPECT_EQ(n, 2u);
  bertcpp_tokenizer_free(t);

  bertcpp_tokenizer* t2 = nullptr;
  ASSERT_EQ(bertcpp_tokenizer_load(dir("tiny-bert").c_str(), &t2), BERTCPP_OK) << bertcpp_last_error();
  bertcpp_tokenizer_free(t2);
}

TEST(CApi, ClassifyInLabelOrderAndWrongHead) {
  bertcpp_model* m = nullptr;
  ASSERT_EQ(bertcpp_model_load(dir("tiny-bert-classifier-bf16").c_str(), nullptr, &m), BERTCPP_OK) << bertcpp_last_error();
  ASSERT_EQ(bertcpp_model_n_labels(m), 3);
  EXPECT_STREQ(bertcpp_model_label(m, 0), "negative");
  EXPECT_STREQ(bertcpp_model_label(m, 2), "positive");
  EXPECT_EQ(bertcpp_model_label(m, 3), nullptr);
  float scores[3];
  size_t n = 0;
  ASSERT_EQ(bertcpp_classify(m, "Replace me by any text you'd like.", nullptr, scores, 3, &n), BERTCPP_OK) << bertcpp_last_error();
  EXPECT_EQ(n, 3u);
  const bertcpp::Tensor logits = bertcpp::apitest::Golden("tiny-bert-classifier-bf16").get("single.logits");
  const auto probs = bertcpp::apitest::softmax({logits.data<float>()[0], logits.data<float>()[1], logits.data<float>()[2]});
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(scores[i], probs[static_cast<size_t>(i)], 1e-5);
  EXPECT_EQ(bertcpp_classify(m, "x", nullptr, scores, 2, &n), BERTCPP_ERR_INVALID_ARGUMENT);
  bertcpp_model_free(m);

  ASSERT_EQ(bertcpp_model_load(dir("tiny-bert").c_str(), nullptr, &m), BERTCPP_OK);
  EXPECT_EQ(bertcpp_model_n_labels(m), 0);
  EXPECT_EQ(bertcpp_classify(m, "x", nullptr, scores, 3, &n), BERTCPP_ERR_UNSUPPORTED);
  EXPECT_NE(std::string(bertcpp_last_error()).find("has head base"), std::string::npos) << bertcpp_last_error();
  bertcpp_model_free(m);
}

TEST(CApi, LastErrorIsPerThread) {
  bertcpp_model* m = nullptr;
  EXPECT_EQ(bertcpp_model_load("/no/such/model/dir/x", nullptr, &m), BERTCPP_ERR_NOT_FOUND);
  std::string other;
  std::thread th([&] { other = bertcpp_last_error(); });
  th.join();
  EXPECT_EQ(other, "");
  EXPECT_NE(std::string(bertcpp_last_error()), "");
}

// Another family through the C API: MPNet in a sentence-transformers folder equals
// SentenceTransformer.encode (the golden), a RoBERTa base model loads and embeds, and the rotary
// families' mean-pooled embeddings equal the mean of transformers' last_hidden_state (the golden).
TEST(CApi, FamiliesEmbed) {
  bertcpp_model* m = nullptr;
  ASSERT_EQ(bertcpp_model_load(dir("tiny-mpnet-st").c_str(), nullptr, &m), BERTCPP_OK) << bertcpp_last_error();
  const bertcpp::apitest::Golden g("tiny-mpnet-st");
  const std::vector<std::string> texts = g.texts("batch");
  std::vector<const char*> ptrs;
  for (const auto& t : texts) ptrs.push_back(t.c_str());
  std::vector<float> out(texts.size() * 32);
  ASSERT_EQ(bertcpp_embed(m, ptrs.data(), ptrs.size(), BERTCPP_POOLING_MEAN, 1, out.data(), out.size()), BERTCPP_OK)
      << bertcpp_last_error();
  const bertcpp::Tensor want = g.get("batch.sentence_embedding");
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], want.data<float>()[i], 1e-5) << i;
  bertcpp_model_free(m);
  ASSERT_EQ(bertcpp_model_load(dir("tiny-roberta").c_str(), nullptr, &m), BERTCPP_OK) << bertcpp_last_error();
  const char* one[] = {"Hello, world!"};
  std::vector<float> e(32);
  EXPECT_EQ(bertcpp_embed(m, one, 1, BERTCPP_POOLING_CLS, 0, e.data(), e.size()), BERTCPP_OK) << bertcpp_last_error();
  bertcpp_model_free(m);
  for (const char* name : {"tiny-modernbert", "tiny-nomic-bert", "tiny-gte", "tiny-gte-new", "tiny-jina-bert"}) {
    SCOPED_TRACE(name);
    ASSERT_EQ(bertcpp_model_load(dir(name).c_str(), nullptr, &m), BERTCPP_OK) << bertcpp_last_error();
    const bertcpp::apitest::Golden gr(name);
    const std::vector<std::string> rt = gr.texts("batch");
    std::vector<const char*> rp;
    for (const auto& t : rt) rp.push_back(t.c_str());
    const bertcpp::Tensor hidden = gr.get("batch.last_hidden_state"), mask = gr.ids("batch.attention_mask");
    const int64_t B = hidden.dim(0), S = hidden.dim(1), H = hidden.dim(2);
    ASSERT_EQ(static_cast<int64_t>(rt.size()), B);
    std::vector<float> got(static_cast<size_t>(B * H));
    ASSERT_EQ(bertcpp_embed(m, rp.data(), rp.size(), BERTCPP_POOLING_MEAN, 0, got.data(), got.size()), BERTCPP_OK)
        << bertcpp_last_error();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < H; ++k) {
        double sum = 0, n = 0;
        for (int64_t s = 0; s < S; ++s) {
          if (mask.data<int64_t>()[b * S + s] == 0) continue;
          sum += hidden.data<float>()[(b * S + s) * H + k];
          ++n;
        }
        EXPECT_NEAR(got[static_cast<size_t>(b * H + k)], sum / n, 1e-4) << "text " << b << ", channel " << k;
      }
    bertcpp_model_free(m);
  }
}

}  // namespace
