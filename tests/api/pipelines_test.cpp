// Model::answers against transformers 4's question-answering pipeline (tests/data/pipelines/qa_expected.json,
// tools/make_qa_expected.py), answer_windows against the tokenizers library's overflowing windows, and
// aggregate_tokens' strategies on hand-made scores.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "api/api_test_util.h"
#include "bertcpp/pipelines.hpp"

namespace bertcpp::apitest {
namespace {

const nlohmann::json& qa_expected() {
  static const nlohmann::json j = [] {
    std::ifstream in(std::filesystem::path(BERTCPP_TEST_DATA) / "pipelines" / "qa_expected.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return nlohmann::json::parse(ss.str());
  }();
  return j;
}

AnswerOptions options_of(const nlohmann::json& kwargs) {
  AnswerOptions o;
  o.top_k = kwargs.value("top_k", int64_t{1});
  o.max_answer_len = kwargs.value("max_answer_len", int64_t{15});
  o.handle_impossible_answer = kwargs.value("handle_impossible_answer", false);
  o.align_to_words = kwargs.value("align_to_words", true);
  if (kwargs.contains("max_seq_len")) o.max_seq_len = kwargs["max_seq_len"].get<int64_t>();
  if (kwargs.contains("doc_stride")) o.doc_stride = kwargs["doc_stride"].get<int64_t>();
  return o;
}

// transformers returns a dict for one answer, a list otherwise.
void expect_same(const std::vector<Answer>& got, const nlohmann::json& ref, const std::string& where) {
  const nlohmann::json list = ref.is_array() ? ref : nlohmann::json::array({ref});
  ASSERT_EQ(got.size(), list.size()) << where;
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(where + "[" + std::to_string(i) + "]");
    EXPECT_EQ(got[i].text, list[i]["answer"].get<std::string>());
    EXPECT_EQ(got[i].start, list[i]["start"].get<int64_t>());
    EXPECT_EQ(got[i].end, list[i]["end"].get<int64_t>());
    const double r = list[i]["score"].get<double>();
    EXPECT_LE(std::abs(got[i].score - r), 1e-4 * std::abs(r)) << got[i].score << " vs " << r;
  }
}

class QuestionAnswering : public ::testing::TestWithParam<std::string> {};

TEST_P(QuestionAnswering, EqualsTransformersPipeline) {
  const std::string name = GetParam();
  const Model& m = load(name);
  const auto& cases = qa_expected()["models"][name];
  ASSERT_GE(cases.size(), 10u);
  for (const auto& [case_name, c] : cases.items()) {
    SCOPED_TRACE(case_name);
    const AnswerOptions o = options_of(c["kwargs"]);
    if (c.contains("inputs")) {  // a batch: one list per input
      ASSERT_EQ(c["inputs"].size(), c["output"].size());
      for (size_t i = 0; i < c["inputs"].size(); ++i)
        expect_same(m.answers(c["inputs"][i]["question"], c["inputs"][i]["context"], o), c["output"][i],
                    name + "/" + case_name + "/" + std::to_string(i));
      continue;
    }
    expect_same(m.answers(c["kwargs"]["question"], c["kwargs"]["context"], o), c["output"], name + "/" + case_name);
  }
}

INSTANTIATE_TEST_SUITE_P(Models, QuestionAnswering, ::testing::Values("tiny-distilbert-qa", "tiny-roberta-qa"));

// The windows are the tokenizers library's overflowing windows (only_second truncation + stride),
// and the long case really needs several.
TEST(AnswerWindows, AreTheTokenizersOverflowingWindows) {
  for (const char* name : {"tiny-distilbert-qa", "tiny-roberta-qa"}) {
    SCOPED_TRACE(name);
    const Tokenizer& tok = load(name).tokenizer();
    ASSERT_TRUE(tok.is_fast());
    const auto& kw = qa_expected()["models"][name]["long_top5"]["kwargs"];
    const std::string q = kw["question"], c = kw["context"];
    for (auto [len, stride] : {std::pair<int64_t, int64_t>{64, 32}, {48, 8}, {64, 0}}) {
      EncodeOptions eo;
      eo.truncation = Truncation::OnlySecond;
      eo.max_length = len;
      eo.stride = stride;
      Encoding first = tok.encode_pair(q, c, eo);
      std::vector<Encoding> want{first};
      for (auto& o : first.overflowing) want.push_back(o);
      const std::vector<Encoding> got = answer_windows(tok, q, c, len, stride, true);
      ASSERT_GE(got.size(), 3u);
      ASSERT_EQ(got.size(), want.size());
      for (size_t w = 0; w < got.size(); ++w) {
        EXPECT_EQ(got[w].input_ids, want[w].input_ids) << w;
        EXPECT_EQ(got[w].token_type_ids, want[w].token_type_ids) << w;
        EXPECT_EQ(got[w].offsets, want[w].offsets) << w;
        EXPECT_EQ(got[w].sequence_ids, want[w].sequence_ids) << w;
        EXPECT_EQ(got[w].word_ids, want[w].word_ids) << w;
      }
    }
  }
}

TEST(AnswerWindows, ErrorsNameTheArgument) {
  const Model& m = load("tiny-distilbert-qa");
  const auto& kw = qa_expected()["models"]["tiny-distilbert-qa"]["long_top5"]["kwargs"];
  AnswerOptions o;
  o.top_k = 0;
  expect_error([&] { m.answers("q?", "c", o); }, ErrorKind::InvalidArgument, "top_k");
  o = {};
  o.max_answer_len = 0;
  expect_error([&] { m.answers("q?", "c", o); }, ErrorKind::InvalidArgument, "max_answer_len");
  o = {};
  o.max_seq_len = 50;
  o.doc_stride = 100;
  expect_error([&] { m.answers("q?", "c", o); }, ErrorKind::InvalidArgument, "doc_stride (100) is larger than max_seq_len (50)");
  o.max_seq_len = 12;  // the question and special tokens leave fewer context tokens than the stride
  o.doc_stride = 6;
  expect_error([&] { m.answers(kw["question"], kw["context"], o); }, ErrorKind::InvalidArgument, "doc_stride (6)");
  expect_error([&] { m.answers("q?", ""); }, ErrorKind::InvalidArgument, "context has no tokens");
}

// decode_answers on hand-made logits: [CLS] takes part in the softmax but is never a span; the
// question is masked; spans longer than max_answer_len are out; equal texts add up.
TEST(DecodeAnswers, MasksScoresAndMerges) {
  const Tokenizer& tok = load("tiny-distilbert-qa").tokenizer();
  const std::string context = "The the";
  const Encoding e = tok.encode_pair("the", context);
  ASSERT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "the", "[SEP]", "the", "the", "[SEP]"}));
  const std::vector<float> logits{5.f, 9.f, 0.f, 1.f, 1.f, 0.f};  // the question's 9 is masked
  const AnswerWindow w{&e, logits, logits};
  AnswerOptions o;
  o.top_k = 5;
  const double z = std::exp(5.0) + 2 * std::exp(1.0);  // [CLS] + the two context tokens
  const double p = std::exp(1.0) / z;
  const auto a = decode_answers(std::span(&w, 1), context, tok.cls_token_id(), o);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].text, "The");  // (3,3) and (4,4): one text case-insensitively, scores added, the first kept
  EXPECT_EQ(a[0].start, 0);
  EXPECT_EQ(a[0].end, 3);
  EXPECT_NEAR(a[0].score, 2 * p * p, 1e-12);
  EXPECT_EQ(a[1].text, "The the");
  EXPECT_NEAR(a[1].score, p * p, 1e-12);
  o.max_answer_len = 1;
  EXPECT_EQ(decode_answers(std::span(&w, 1), context, tok.cls_token_id(), o).size(), 1u);
  o.handle_impossible_answer = true;
  const auto b = decode_answers(std::span(&w, 1), context, tok.cls_token_id(), o);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].text, "");  // p_start[CLS] * p_end[CLS] beats the spans here
  EXPECT_EQ(b[0].end, 0);
  EXPECT_NEAR(b[0].score, std::exp(5.0) / z * std::exp(5.0) / z, 1e-12);
  // Without [CLS] kept every non-context token is masked: the two context tokens share the mass.
  o = {};
  const auto c = decode_answers(std::span(&w, 1), context, std::nullopt, o);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_NEAR(c[0].score, 2 * 0.25, 1e-12);
}

// aggregate_tokens: "working" is work ##ing in the tiny vocabulary; scores chosen so that first,
// average and max disagree.
TEST(AggregateTokens, StrategiesAsTransformers) {
  const Tokenizer& tok = load("tiny-distilbert-qa").tokenizer();
  const std::string text = "New working";
  const Encoding e = tok.encode(text);
  ASSERT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "new", "work", "##ing", "[SEP]"}));
  const std::vector<std::string> labels{"O", "B-PER", "I-PER"};
  const std::vector<float> p{1, 0, 0, 0.1f, 0.8f, 0.1f, 0.5f, 0.2f, 0.3f, 0.1f, 0.1f, 0.8f, 1, 0, 0};
  auto run = [&](Aggregation a, std::vector<std::string> ignore = {"O"}) {
    return aggregate_tokens(tok, e, text, p, labels, {a, std::move(ignore)});
  };
  const auto none = run(Aggregation::None, {});
  ASSERT_EQ(none.size(), 3u);  // [CLS] and [SEP] skipped
  EXPECT_EQ(none[1].label, "O");
  EXPECT_EQ(none[1].index, 2);
  EXPECT_EQ(none[2].word, "##ing");
  EXPECT_EQ(none[2].start, 8);
  EXPECT_EQ(run(Aggregation::None).size(), 2u);  // "O" ignored
  // simple: new B-PER | work O | ##ing I-PER: two PER groups, the O one ignored
  const auto simple = run(Aggregation::Simple);
  ASSERT_EQ(simple.size(), 2u);
  EXPECT_EQ(simple[0].label, "PER");
  EXPECT_EQ(simple[0].word, "new");
  EXPECT_FALSE(simple[0].index.has_value());
  EXPECT_EQ(simple[1].start, 8);
  EXPECT_NEAR(simple[1].score, 0.8, 1e-6);
  // first: "working" takes work's scores: O, ignored
  const auto first = run(Aggregation::First);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].word, "new");
  // average: (0.3, 0.15, 0.55): I-PER 0.55 after B-PER: one group
  const auto average = run(Aggregation::Average);
  ASSERT_EQ(average.size(), 1u);
  EXPECT_EQ(average[0].word, "new working");
  EXPECT_EQ(average[0].start, 0);
  EXPECT_EQ(average[0].end, 11);
  EXPECT_NEAR(average[0].score, (0.8 + 0.55) / 2, 1e-6);
  // max: ##ing's 0.8 is the word's highest score: its I-PER 0.8 (work's would make it O)
  const auto max = run(Aggregation::Max);
  ASSERT_EQ(max.size(), 1u);
  EXPECT_EQ(max[0].word, "new working");
  EXPECT_NEAR(max[0].score, 0.8, 1e-6);
  // A B- label starts a new group even after the same type: new B-PER | work B-PER ##ing I-PER.
  const std::vector<float> q{1, 0, 0, 0.1f, 0.8f, 0.1f, 0.2f, 0.7f, 0.1f, 0.1f, 0.1f, 0.8f, 1, 0, 0};
  const auto groups = aggregate_tokens(tok, e, text, q, labels, {Aggregation::Simple, {"O"}});
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].word, "new");
  EXPECT_EQ(groups[1].start, 4);
  EXPECT_EQ(groups[1].end, 11);
  EXPECT_NEAR(groups[1].score, (0.7 + 0.8) / 2, 1e-6);
  // Label names past id2label's end are LABEL_<i>; a label without B-/I- continues a group of its name.
  const auto unnamed = aggregate_tokens(tok, e, text, q, std::vector<std::string>{"O"}, {Aggregation::First, {}});
  ASSERT_EQ(unnamed.size(), 1u);
  EXPECT_EQ(unnamed[0].label, "LABEL_1");
  EXPECT_EQ(unnamed[0].word, "new working");
  EXPECT_EQ(parse_aggregation("SIMPLE"), Aggregation::Simple);
  expect_error([] { parse_aggregation("mean"); }, ErrorKind::InvalidArgument, "aggregation_strategy");
}

}  // namespace
}  // namespace bertcpp::apitest
