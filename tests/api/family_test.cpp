// The families through the public API: loading by model_type, the tokenizer's ids equal to the
// reference's, heads through the task helpers, sentence-transformers embeddings, base-model loading
// of a checkpoint without its head.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "api_test_util.h"
#include "bertcpp/error.h"

using namespace bertcpp;
using namespace bertcpp::apitest;

namespace {

std::vector<int64_t> row_ids(const Tensor& ids, const Tensor& mask, int64_t b) {
  const int64_t S = ids.dim(1);
  std::vector<int64_t> out;
  for (int64_t s = 0; s < S; ++s)
    if (mask.data<int64_t>()[b * S + s] == 1) out.push_back(ids.data<int64_t>()[b * S + s]);
  return out;
}

}  // namespace

TEST(Families, ConfigInfoNamesTheFamily) {
  const std::pair<const char*, const char*> cases[] = {
      {"tiny-bert", "bert"},           {"tiny-roberta", "roberta"}, {"tiny-xlm-roberta", "roberta"},
      {"tiny-distilbert", "distilbert"}, {"tiny-electra", "electra"}, {"tiny-mpnet", "mpnet"},
  };
  for (const auto& [name, family] : cases) {
    SCOPED_TRACE(name);
    const ModelConfigInfo& c = load(name).config();
    EXPECT_EQ(c.family, family);
  }
  EXPECT_EQ(load("tiny-xlm-roberta").config().model_type, "xlm-roberta");
  EXPECT_EQ(load("tiny-roberta").config().max_sequence_length, 64);  // 66 positions from padding_idx + 1 = 2
  EXPECT_EQ(load("tiny-distilbert").config().type_vocab_size, 0);
  EXPECT_EQ(load("tiny-electra-discriminator").head(), "discriminator");
}

// WordPiece families (DistilBERT, ELECTRA): the task helpers on the reference's own ids.
TEST(Families, ClassifyEqualsTheGoldenLogits) {
  for (const char* name : {"tiny-distilbert-classifier", "tiny-electra-classifier", "tiny-roberta-classifier",
                           "tiny-mpnet-classifier"}) {
    SCOPED_TRACE(name);
    const Golden g(name);
    const Model& m = load(name);
    const std::string text = g.texts("single")[0];
    const Encoding enc = m.tokenizer().encode(text);
    ASSERT_EQ(enc.input_ids, row_ids(g.ids("single.input_ids"), g.ids("single.attention_mask"), 0));
    const std::vector<LabelScore> scores = m.classify(text);
    const Tensor logits = g.get("single.logits");
    std::vector<double> l(logits.data<float>(), logits.data<float>() + logits.numel());
    const std::vector<float> want = softmax(l);
    ASSERT_EQ(scores.size(), want.size());
    for (const LabelScore& s : scores) EXPECT_NEAR(s.score, want[static_cast<size_t>(s.id)], 1e-5) << s.label;
  }
}

// MPNet in a sentence-transformers folder: Model::embed equals SentenceTransformer.encode.
TEST(Families, MpnetSentenceTransformersEmbeddings) {
  const Golden g("tiny-mpnet-st");
  const Model& m = load("tiny-mpnet-st");
  EXPECT_TRUE(m.default_normalize());
  EXPECT_EQ(m.max_seq_length(), 48);
  for (const char* c : {"single", "batch"}) {
    SCOPED_TRACE(c);
    const std::vector<std::string> texts = g.texts(c);
    const Tensor want = g.get(std::string(c) + ".sentence_embedding");
    const Tensor ids = g.ids(std::string(c) + ".input_ids"), mask = g.ids(std::string(c) + ".attention_mask");
    for (size_t b = 0; b < texts.size(); ++b)
      EXPECT_EQ(m.tokenizer().encode(texts[b]).input_ids, row_ids(ids, mask, static_cast<int64_t>(b))) << texts[b];
    EXPECT_LE(max_abs_diff(want, m.embed(texts)), 1e-5);
  }
}

// A checkpoint whose config names a head it does not have loads as the base model (as
// transformers' base classes do): embeddings work, the head's task says what is missing.
TEST(Families, MissingHeadWeightsLoadTheBaseModel) {
  const auto src = model_path("tiny-bert");
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-nohead-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (const char* f : {"model.safetensors", "vocab.txt", "tokenizer_config.json"})
    std::filesystem::copy_file(src / f, dir / f, std::filesystem::copy_options::overwrite_existing);
  std::ifstream in(src / "config.json");
  nlohmann::json cfg = nlohmann::json::parse(in);
  cfg["architectures"] = {"BertForMaskedLM"};
  std::ofstream(dir / "config.json") << cfg.dump();
  {
    const Model m = Model::from_pretrained(dir.string());
    const Model& ref = load("tiny-bert");
    const std::vector<std::string> texts{"Hello world", "a b c"};
    EXPECT_EQ(max_abs_diff(ref.embed(texts), m.embed(texts)), 0.0);
    expect_error([&] { m.fill_mask("Paris is the [MASK] of France."); }, ErrorKind::Unsupported,
                 "cls.predictions.transform.dense.weight");
    const ModelOutput o = m.forward(Batch::from_encodings(std::vector<Encoding>{m.tokenizer().encode("hi")}));
    EXPECT_TRUE(o.last_hidden_state.defined());
    EXPECT_FALSE(o.prediction_logits.defined());
  }
  std::filesystem::remove_all(dir);
}

// Only the outputs asked for run: no head logits, no pooler.
TEST(Families, HeadAndPoolerRunOnlyWhenAsked) {
  const Model& m = load("tiny-bert-pretraining-f16");
  const Batch b = Batch::from_encodings(std::vector<Encoding>{m.tokenizer().encode("Paris is the [MASK] of France.")});
  const ModelOutput all = m.forward(b);
  EXPECT_TRUE(all.prediction_logits.defined());
  EXPECT_TRUE(all.seq_relationship_logits.defined());
  const ModelOutput base = m.forward(b, {.pooler_output = false, .head_outputs = false});
  EXPECT_FALSE(base.prediction_logits.defined());
  EXPECT_FALSE(base.seq_relationship_logits.defined());
  EXPECT_FALSE(base.pooler_output.defined());
  EXPECT_EQ(max_abs_diff(all.last_hidden_state, base.last_hidden_state), 0.0);
}

// A pair to a classifier without token types: the tokenizer's segment ids are not sent (DistilBERT
// has no token type embeddings, as its transformers tokenizer returns none).
TEST(Families, PairsToModelsWithoutTokenTypes) {
  const Model& m = load("tiny-distilbert-classifier");
  const std::vector<LabelScore> s = m.classify("first text", std::string("second text"));
  EXPECT_EQ(s.size(), 3u);
  const Batch b = Batch::from_encodings(std::vector<Encoding>{m.tokenizer().encode_pair("a", "b")});
  expect_error([&] { m.forward(b); }, ErrorKind::InvalidArgument, "no token types");
}

// Cross-encoder rerankers (RoBERTa / XLM-R with one label, the bge-reranker shape): the raw logit
// of the pair, on the reference's ids.
TEST(Families, RerankersScoreThePair) {
  for (const char* name : {"tiny-roberta-reranker", "tiny-xlm-roberta-reranker"}) {
    SCOPED_TRACE(name);
    const Golden g(name);
    const Model& m = load(name);
    const auto [a, b] = g.pair();
    EncodeOptions o;  // the reference truncated the pair to the model's longest input
    o.truncation = Truncation::LongestFirst;
    o.max_length = m.config().max_sequence_length;
    const Encoding enc = m.tokenizer().encode_pair(a, b, o);
    ASSERT_EQ(enc.input_ids, row_ids(g.ids("pair.input_ids"), g.ids("pair.attention_mask"), 0));
    const std::vector<float> scores = m.rerank(a, std::vector<std::string>{b});
    ASSERT_EQ(scores.size(), 1u);
    EXPECT_NEAR(scores[0], g.get("pair.logits").data<float>()[0], 1e-5);
  }
}

// Token classification and question answering heads through the task helpers.
TEST(Families, TokenClassificationAndQuestionAnswering) {
  for (const char* name : {"tiny-roberta-token", "tiny-distilbert-token", "tiny-electra-token"}) {
    SCOPED_TRACE(name);
    const Golden g(name);
    const Model& m = load(name);
    const std::string text = g.texts("single")[0];
    ASSERT_EQ(m.tokenizer().encode(text).input_ids, row_ids(g.ids("single.input_ids"), g.ids("single.attention_mask"), 0));
    EXPECT_FALSE(m.classify_tokens(text).empty());
  }
  for (const char* name : {"tiny-roberta-qa", "tiny-distilbert-qa"}) {
    SCOPED_TRACE(name);
    const Model& m = load(name);
    const Answer a = m.answer("Where is it?", "It is in Paris, the capital of France.");
    EXPECT_LE(a.start, a.end);
  }
}
