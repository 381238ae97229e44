// model::Bert against transformers' goldens: every model folder and case in tests/data/models,
// every output the golden holds, max |Δ| ≤ 1e-4.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "golden_util.h"
#include "model/bert.h"

using namespace bertcpp;
using bertcpp::testing::Golden;
using bertcpp::testing::max_abs_diff;

namespace {

constexpr double kTol = 1e-4;

// Prints the measured agreement (gtest shows it with the test) and checks it.
void expect_close(double diff, const std::string& what) {
  std::printf("    max|delta| %-26s %.3g\n", what.c_str(), diff);
  EXPECT_LE(diff, kTol) << what;
}

struct Param {
  std::string model;
  std::string case_name;
};

std::string param_name(const ::testing::TestParamInfo<Param>& p) {
  std::string s = p.param.model + "_" + p.param.case_name;
  std::replace(s.begin(), s.end(), '-', '_');
  return s;
}

// Loading is the slow part; one model per folder for the whole suite.
const model::Bert& loaded(const std::filesystem::path& dir) {
  static std::map<std::string, std::unique_ptr<model::Bert>> cache;
  auto& slot = cache[dir.string()];
  if (!slot) slot = model::Bert::load(dir, ModelOptions{});
  return *slot;
}

void check_case(const model::Bert& bert, const Golden& g, const std::string& c) {
  const Batch batch = g.batch(c);
  OutputRequest req;
  req.hidden_states = g.has(c, "hidden_states");
  req.attentions = g.has(c, "attentions");
  const ModelOutput out = bert.forward(batch, req);
  int compared = 0;
  expect_close(max_abs_diff(g.get(c, "last_hidden_state"), out.last_hidden_state, batch.attention_mask), "last_hidden_state");
  ++compared;
  for (const char* name : {"pooler_output", "logits", "seq_relationship_logits"}) {
    if (!g.has(c, name)) continue;
    const Tensor& actual = std::string(name) == "pooler_output" ? out.pooler_output
                           : std::string(name) == "logits"      ? out.logits
                                                                : out.seq_relationship_logits;
    expect_close(max_abs_diff(g.get(c, name), actual), name);
    ++compared;
  }
  if (g.has(c, "prediction_logits")) {
    expect_close(max_abs_diff(g.get(c, "prediction_logits"), out.prediction_logits, batch.attention_mask), "prediction_logits");
    ++compared;
  }
  if (req.hidden_states) {
    const Tensor e = g.get(c, "hidden_states");
    ASSERT_EQ(static_cast<int64_t>(out.hidden_states.size()), e.dim(0));
    const int64_t per = e.numel() / e.dim(0);
    for (int64_t l = 0; l < e.dim(0); ++l) {
      Shape s(e.shape().begin() + 1, e.shape().end());
      Tensor layer = Tensor::borrow(DType::F32, s, e.to_f32().data<float>() + l * per, nullptr).clone();
      expect_close(max_abs_diff(layer, out.hidden_states[static_cast<size_t>(l)], batch.attention_mask), "hidden_states[" + std::to_string(l) + "]");
    }
    ++compared;
  }
  if (req.attentions) {
    expect_close(max_abs_diff(g.get(c, "attentions"), bertcpp::testing::stack(out.attentions)), "attentions");
    ++compared;
  }
  EXPECT_GE(compared, 2);
}

class BertGolden : public ::testing::TestWithParam<Param> {};

TEST_P(BertGolden, MatchesTransformers) {
  const auto dir = bertcpp::testing::model_dir(GetParam().model);
  const Golden g(dir);
  check_case(loaded(dir), g, GetParam().case_name);
}

std::vector<Param> all_params() {
  std::vector<Param> ps;
  for (const char* m : {"tiny-bert", "tiny-bert-pretraining-f16", "tiny-bert-classifier-bf16"})
    for (const char* c : {"single", "batch", "pair", "long"}) ps.push_back({m, c});
  return ps;
}

INSTANTIATE_TEST_SUITE_P(AllModels, BertGolden, ::testing::ValuesIn(all_params()), param_name);

// The same weights from pytorch_model.bin (torch zip, read without running pickle code).
TEST(BertGoldenTorchBin, TinyBertFromPytorchModelBin) {
  const auto src = bertcpp::testing::model_dir("tiny-bert");
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-model-bin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src / "config.json", dir / "config.json", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(src / "pytorch_model.bin", dir / "pytorch_model.bin", std::filesystem::copy_options::overwrite_existing);
  {
    auto bert = model::Bert::load(dir, ModelOptions{});
    const Golden g(src);
    for (const char* c : {"single", "batch", "pair", "long"}) {
      SCOPED_TRACE(c);
      check_case(*bert, g, c);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(BertLoad, HeadsAndConfig) {
  EXPECT_EQ(loaded(bertcpp::testing::model_dir("tiny-bert")).head(), io::HeadKind::None);
  EXPECT_EQ(loaded(bertcpp::testing::model_dir("tiny-bert-pretraining-f16")).head(), io::HeadKind::PreTraining);
  const auto& cls = loaded(bertcpp::testing::model_dir("tiny-bert-classifier-bf16"));
  EXPECT_EQ(cls.head(), io::HeadKind::SequenceClassification);
  EXPECT_EQ(cls.config().num_labels, 3);
}

}  // namespace
