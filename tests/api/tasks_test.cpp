// The task helpers: fill_mask, classify, rerank, classify_tokens, answer, and their errors.
#include <cstring>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "api_test_util.h"
#include "model/tensor_file.h"

namespace bertcpp::apitest {
namespace {
namespace fs = std::filesystem;

TEST(FillMask, TopKSortedProbabilitiesOfTheMaskPosition) {
  const Model& m = load("tiny-bert-pretraining-f16");
  const std::string text = "Replace me by any [MASK] you'd like.";
  const auto c = m.fill_mask(text, 7);
  ASSERT_EQ(c.size(), 7u);
  double sum = 0;
  for (size_t i = 0; i < c.size(); ++i) {
    sum += c[i].score;
    if (i) { EXPECT_GE(c[i - 1].score, c[i].score); }
    std::string word = c[i].token;
    if (word.rfind("##", 0) == 0) word = word.substr(2);
    EXPECT_NE(c[i].sequence.find(word), std::string::npos) << c[i].sequence << " / " << c[i].token;
    EXPECT_EQ(c[i].sequence.find("[MASK]"), std::string::npos);
    EXPECT_EQ(c[i].sequence.find("[CLS]"), std::string::npos);
  }
  EXPECT_LE(sum, 1.0 + 1e-6);
  EXPECT_GT(c[0].score, 0.f);

  // The scores are the softmax over the vocabulary of forward()'s logits at the mask.
  const Encoding enc = m.tokenizer().encode(text);
  const size_t pos = static_cast<size_t>(std::find(enc.input_ids.begin(), enc.input_ids.end(), m.tokenizer().mask_token_id()) -
                                         enc.input_ids.begin());
  ASSERT_LT(pos, enc.size());
  const ModelOutput o = m.forward(Batch::from_encodings(std::vector<Encoding>{enc}));
  const int64_t V = o.prediction_logits.dim(2);
  const float* row = o.prediction_logits.data<float>() + static_cast<int64_t>(pos) * V;
  const auto probs = softmax(std::vector<double>(row, row + V));
  const auto best = std::max_element(probs.begin(), probs.end()) - probs.begin();
  EXPECT_EQ(c[0].token_id, best);
  for (const auto& x : c) EXPECT_NEAR(x.score, probs[static_cast<size_t>(x.token_id)], 1e-6);
  // Its sequence is the decoded ids with the candidate in place of the mask.
  std::vector<int64_t> ids = enc.input_ids;
  ids[pos] = c[0].token_id;
  EXPECT_EQ(c[0].sequence, m.tokenizer().decode(ids, true));
}

TEST(FillMask, Errors) {
  expect_error([] { load("tiny-bert").fill_mask("a [MASK]"); }, ErrorKind::Unsupported,
               "has head base; fill-mask needs a masked LM (BertForMaskedLM/BertForPreTraining)");
  expect_error([] { load("tiny-bert-classifier-bf16").fill_mask("a [MASK]"); }, ErrorKind::Unsupported, "sequence_classification");
  expect_error([] { load("tiny-bert-pretraining-f16").fill_mask("no mask here"); }, ErrorKind::InvalidArgument, "[MASK]");
  expect_error([] { load("tiny-bert-pretraining-f16").fill_mask("a [MASK]", 0); }, ErrorKind::InvalidArgument, "top_k");
}

TEST(Classify, SoftmaxOfTheGoldenLogitsWithLabelNamesBestFirst) {
  const Model& m = load("tiny-bert-classifier-bf16");
  const Golden g("tiny-bert-classifier-bf16");
  auto check = [&](const std::vector<LabelScore>& got, const std::string& key) {
    SCOPED_TRACE(key);
    const Tensor logits = g.get(key);
    const auto probs = softmax({logits.data<float>()[0], logits.data<float>()[1], logits.data<float>()[2]});
    const std::vector<std::string> names{"negative", "neutral", "positive"};
    ASSERT_EQ(got.size(), 3u);
    std::set<std::string> seen;
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_GE(got[i].id, 0);
      ASSERT_LT(got[i].id, 3);
      EXPECT_EQ(got[i].label, names[static_cast<size_t>(got[i].id)]);
      EXPECT_NEAR(got[i].score, probs[static_cast<size_t>(got[i].id)], 1e-5);
      if (i) { EXPECT_GE(got[i - 1].score, got[i].score); }
      seen.insert(got[i].label);
    }
    EXPECT_EQ(seen.size(), 3u);
  };
  check(m.classify(g.texts("single")[0]), "single.logits");
  const auto [a, b] = g.pair();
  check(m.classify(a, b), "pair.logits");
}

TEST(Classify, BatchedEncodingsEqualEachAloneInInputOrder) {
  const Model& m = load("tiny-bert-classifier-bf16");
  const EncodeOptions eo = m.task_encode_options();
  std::vector<Encoding> encs;
  std::vector<std::vector<LabelScore>> alone;
  // More than one forward chunk, lengths mixed so sorting by length reorders them.
  for (int i = 0; i < 45; ++i) {
    std::string text = "text " + std::to_string(i);
    for (int k = 0; k < (i * 7) % 13; ++k) text += " word" + std::to_string(k);
    const std::optional<std::string> pair = i % 3 == 0 ? std::optional<std::string>("a second text " + std::to_string(i)) : std::nullopt;
    encs.push_back(pair ? m.tokenizer().encode_pair(text, *pair, eo) : m.tokenizer().encode(text, eo));
    alone.push_back(m.classify(text, pair));
  }
  const auto batched = m.classify(encs);
  ASSERT_EQ(batched.size(), alone.size());
  for (size_t i = 0; i < alone.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(batched[i].size(), alone[i].size());
    for (size_t j = 0; j < alone[i].size(); ++j) {
      EXPECT_EQ(batched[i][j].id, alone[i][j].id);
      EXPECT_EQ(batched[i][j].label, alone[i][j].label);
      EXPECT_EQ(std::memcmp(&batched[i][j].score, &alone[i][j].score, sizeof(float)), 0) << batched[i][j].score << " vs " << alone[i][j].score;
    }
  }
  EXPECT_TRUE(m.classify(std::vector<Encoding>{}).empty());
}

TEST(Classify, WrongHeadIsUnsupported) {
  expect_error([] { load("tiny-bert").classify("x"); }, ErrorKind::Unsupported, "has head base; classification needs");
  expect_error([] { load("tiny-bert-pretraining-f16").classify("x"); }, ErrorKind::Unsupported, "has head pretraining");
}

TEST(Rerank, LastLabelProbabilityInDocumentOrder) {
  const Model& m = load("tiny-bert-classifier-bf16");
  const Golden g("tiny-bert-classifier-bf16");
  const auto [q, d] = g.pair();
  const std::vector<std::string> docs{d, "Hello, world!", d};
  const auto s = m.rerank(q, docs);
  ASSERT_EQ(s.size(), 3u);
  const Tensor logits = g.get("pair.logits");
  const auto probs = softmax({logits.data<float>()[0], logits.data<float>()[1], logits.data<float>()[2]});
  EXPECT_NEAR(s[0], probs[2], 1e-5);
  EXPECT_NEAR(s[2], probs[2], 1e-5);
  float hello = -1;
  for (const auto& l : m.classify(q, std::string("Hello, world!")))
    if (l.id == 2) hello = l.score;
  EXPECT_NEAR(s[1], hello, 1e-5);
  EXPECT_TRUE(m.rerank(q, std::vector<std::string>{}).empty());
  expect_error([] { load("tiny-bert").rerank("q", std::vector<std::string>{"d"}); }, ErrorKind::Unsupported, "rerank needs a cross-encoder");
}

// Token-classification and QA models built from tiny-bert's weights plus a known head, so the
// expected outputs can be computed here from last_hidden_state.
class HeadModel : public ::testing::Test {
 protected:
  static constexpr int64_t H = 32;
  fs::path make(const std::string& arch, const std::string& head_name, int64_t labels, const std::string& extra_config) {
    const fs::path dir = fs::temp_directory_path() / ("bertcpp_head_" + arch + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    dirs_.push_back(dir);
    for (const char* f : {"vocab.txt", "tokenizer_config.json"}) fs::copy_file(model_path("tiny-bert") / f, dir / f);
    std::ifstream in(model_path("tiny-bert") / "config.json");
    nlohmann::json cfg = nlohmann::json::parse(in);
    cfg["architectures"] = {arch};
    const nlohmann::json extra = nlohmann::json::parse(extra_config);
    for (const auto& [k, v] : extra.items()) cfg[k] = v;
    std::ofstream(dir / "config.json") << cfg.dump(2);
    const io::Checkpoint base = io::Checkpoint::open(model_path("tiny-bert") / "model.safetensors");
    std::map<std::string, Tensor> t;
    for (const auto& info : base.tensors()) t[info.name] = base.get(info.name);
    W_ = Tensor::empty(DType::F32, {labels, H});
    B_ = Tensor::empty(DType::F32, {labels});
    for (int64_t l = 0; l < labels; ++l) {
      for (int64_t k = 0; k < H; ++k) W_.data<float>()[l * H + k] = static_cast<float>(std::sin(0.7 * double(l * H + k) + 0.3));
      B_.data<float>()[l] = 0.1f * static_cast<float>(l) - 0.05f;
    }
    t[head_name + ".weight"] = W_;
    t[head_name + ".bias"] = B_;
    model::safetensors_write(dir / "model.safetensors", t);
    return dir;
  }
  void TearDown() override {
    for (const auto& d : dirs_) fs::remove_all(d);
  }
  // logits[s][l] for the encoding's last_hidden_state, from W_/B_.
  std::vector<std::vector<double>> head_logits(const Model& m, const Encoding& enc) {
    const ModelOutput o = m.forward(Batch::from_encodings(std::vector<Encoding>{enc}));
    const int64_t L = W_.dim(0);
    std::vector<std::vector<double>> out(enc.size(), std::vector<double>(static_cast<size_t>(L)));
    for (size_t s = 0; s < enc.size(); ++s)
      for (int64_t l = 0; l < L; ++l) {
        double acc = B_.data<float>()[l];
        for (int64_t k = 0; k < H; ++k)
          acc += double(W_.data<float>()[l * H + k]) * o.last_hidden_state.data<float>()[static_cast<int64_t>(s) * H + k];
        out[s][static_cast<size_t>(l)] = acc;
      }
    return out;
  }
  std::vector<fs::path> dirs_;
  Tensor W_, B_;
};

TEST_F(HeadModel, ClassifyTokensGivesLabelScoreAndOffsetsPerToken) {
  const fs::path dir = make("BertForTokenClassification", "classifier", 3,
                            R"({"id2label":{"0":"O","1":"B-PER","2":"I-PER"},"label2id":{"O":0,"B-PER":1,"I-PER":2}})");
  const Model m = Model::from_pretrained(dir.string());
  EXPECT_EQ(m.head(), "token_classification");
  const std::string text = "Héllo, Zoë façade!";
  const auto preds = m.classify_tokens(text);
  const Encoding enc = m.tokenizer().encode(text);
  const auto logits = head_logits(m, enc);
  ASSERT_EQ(preds.size(), enc.size() - 2);  // [CLS] and [SEP] excluded
  const std::vector<std::string> names{"O", "B-PER", "I-PER"};
  for (size_t i = 0; i < preds.size(); ++i) {
    const size_t s = i + 1;
    const auto p = softmax(logits[s]);
    const size_t best = static_cast<size_t>(std::max_element(p.begin(), p.end()) - p.begin());
    EXPECT_EQ(preds[i].label, names[best]);
    EXPECT_NEAR(preds[i].score, p[best], 1e-5);
    EXPECT_EQ(preds[i].token, enc.tokens[s]);
    EXPECT_EQ(preds[i].start, enc.offsets[s].first);
    EXPECT_EQ(preds[i].end, enc.offsets[s].second);
  }
  EXPECT_EQ(preds.front().start, 0);
  EXPECT_EQ(preds.back().end, 18);  // code points: "!" is the 18th
  expect_error([&] { m.fill_mask("[MASK]"); }, ErrorKind::Unsupported, "token_classification");
}

TEST_F(HeadModel, AnswerIsTheBestContextSpan) {
  const fs::path dir = make("BertForQuestionAnswering", "qa_outputs", 2, "{}");
  const Model m = Model::from_pretrained(dir.string());
  EXPECT_EQ(m.head(), "question_answering");
  const std::string question = "Where does Zoë live?";
  const std::string context = "Zoë lives in Ångström, a café town near the sea, since 2019.";
  for (int64_t max_len : {1, 3, 30}) {
    SCOPED_TRACE(max_len);
    AnswerOptions o;
    o.max_answer_len = max_len;
    o.align_to_words = false;  // the token span itself (word alignment: pipelines_test.cpp)
    const Answer a = m.answer(question, context, o);
    const Encoding enc = m.tokenizer().encode_pair(question, context);
    const auto logits = head_logits(m, enc);
    std::vector<size_t> ctx;
    for (size_t i = 0; i < enc.size(); ++i)
      if (enc.sequence_ids[i] == 1) ctx.push_back(i);
    std::vector<double> s{logits[0][0]}, e{logits[0][1]};
    for (size_t i : ctx) s.push_back(logits[i][0]), e.push_back(logits[i][1]);
    const auto ps = softmax(s), pe = softmax(e);
    double best = -1;
    size_t bi = 0, bj = 0;
    for (size_t i = 0; i < ctx.size(); ++i)
      for (size_t j = i; j < ctx.size() && int64_t(j - i) < max_len; ++j)
        if (double(ps[i + 1]) * pe[j + 1] > best) best = double(ps[i + 1]) * pe[j + 1], bi = ctx[i], bj = ctx[j];
    EXPECT_EQ(a.start, enc.offsets[bi].first);
    EXPECT_EQ(a.end, enc.offsets[bj].second);
    EXPECT_NEAR(a.score, best, 1e-5);
    // The text is the context's code points [start, end).
    size_t cp = 0;
    std::string expected;
    for (size_t i = 0; i < context.size(); ++cp) {
      const unsigned char c = static_cast<unsigned char>(context[i]);
      const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
      if (int64_t(cp) >= a.start && int64_t(cp) < a.end) expected += context.substr(i, n);
      i += n;
    }
    EXPECT_EQ(a.text, expected);
    EXPECT_FALSE(a.text.empty());
  }
  expect_error([&] { m.answer(question, ""); }, ErrorKind::InvalidArgument, "context");
  expect_error([&] { m.classify("x"); }, ErrorKind::Unsupported, "question_answering");
  expect_error([] { load("tiny-bert").answer("q", "c"); }, ErrorKind::Unsupported, "question answering needs");
  expect_error([] { load("tiny-bert").classify_tokens("q"); }, ErrorKind::Unsupported, "token classification needs");
}

}  // namespace
}  // namespace bertcpp::apitest
