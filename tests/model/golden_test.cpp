// Every family's graph (model::load_network) against transformers' goldens: every model folder and case in tests/data/models,
// every output the golden holds, max |Δ| ≤ 1e-4.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "golden_util.h"
#include "model/encoder.h"
#include "model/network.h"

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
const model::Network& loaded(const std::filesystem::path& dir) {
  static std::map<std::string, std::unique_ptr<model::Network>> cache;
  auto& slot = cache[dir.string()];
  if (!slot) slot = model::load_network(dir, model::Options{});
  return *slot;
}

void check_case(const model::Network& bert, const Golden& g, const std::string& c) {
  const model::Input batch = g.batch(c);
  model::Request req;
  req.hidden_states = g.has(c, "hidden_states");
  req.attentions = g.has(c, "attentions");
  const model::Output out = bert.forward(batch, req);
  int compared = 0;
  expect_close(max_abs_diff(g.get(c, "last_hidden_state"), out.last_hidden_state, batch.attention_mask), "last_hidden_state");
  ++compared;
  // Outputs as the golden names them (transformers >= 5 names masked-LM logits "logits").
  const bool mlm = bert.head() == model::HeadKind::MaskedLM;
  const std::pair<const char*, const Tensor*> outputs[] = {
      {"pooler_output", &out.pooler_output},
      {"logits", mlm ? &out.prediction_logits : &out.logits},
      {"prediction_logits", &out.prediction_logits},
      {"seq_relationship_logits", &out.seq_relationship_logits},
      {"start_logits", &out.start_logits},
      {"end_logits", &out.end_logits},
  };
  for (const auto& [name, actual] : outputs) {
    if (!g.has(c, name)) continue;
    const Tensor e = g.get(c, name);
    // Per-token outputs [batch, seq, ...] are compared where attention_mask is 1.
    const bool per_token = e.rank() >= 2 && e.dim(0) == batch.input_ids.dim(0) && e.dim(1) == batch.input_ids.dim(1);
    expect_close(max_abs_diff(e, *actual, per_token ? batch.attention_mask : Tensor()), name);
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
  EXPECT_GE(compared, 1);  // families without pooler or head have last_hidden_state only in some cases
}

class FamilyGolden : public ::testing::TestWithParam<Param> {};

TEST_P(FamilyGolden, MatchesTransformers) {
  const auto dir = bertcpp::testing::model_dir(GetParam().model);
  const Golden g(dir);
  check_case(loaded(dir), g, GetParam().case_name);
}

// Every folder in tests/data/models with goldens, every case it has.
std::vector<Param> all_params() {
  std::vector<Param> ps;
  std::vector<std::string> models;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(BERTCPP_TEST_DATA) / "models"))
    if (std::filesystem::exists(e.path() / "expected.safetensors")) models.push_back(e.path().filename().string());
  std::sort(models.begin(), models.end());
  for (const auto& m : models) {
    const Golden g(bertcpp::testing::model_dir(m));
    for (const char* c : {"single", "batch", "pair", "long"})
      if (g.has(c, "input_ids")) ps.push_back({m, c});
  }
  return ps;
}

INSTANTIATE_TEST_SUITE_P(AllModels, FamilyGolden, ::testing::ValuesIn(all_params()), param_name);

// The same weights from pytorch_model.bin (torch zip, read without running pickle code).
TEST(BertGoldenTorchBin, TinyBertFromPytorchModelBin) {
  const auto src = bertcpp::testing::model_dir("tiny-bert");
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-model-bin-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src / "config.json", dir / "config.json", std::filesystem::copy_options::overwrite_existing);
  std::filesystem::copy_file(src / "pytorch_model.bin", dir / "pytorch_model.bin", std::filesystem::copy_options::overwrite_existing);
  {
    auto bert = model::Encoder::load(dir, model::Options{});
    const Golden g(src);
    for (const char* c : {"single", "batch", "pair", "long"}) {
      SCOPED_TRACE(c);
      check_case(*bert, g, c);
    }
  }
  std::filesystem::remove_all(dir);
}

TEST(BertLoad, HeadsAndConfig) {
  EXPECT_EQ(loaded(bertcpp::testing::model_dir("tiny-bert")).head(), model::HeadKind::None);
  EXPECT_EQ(loaded(bertcpp::testing::model_dir("tiny-bert-pretraining-f16")).head(), model::HeadKind::PreTraining);
  const auto& cls = loaded(bertcpp::testing::model_dir("tiny-bert-classifier-bf16"));
  EXPECT_EQ(cls.head(), model::HeadKind::SequenceClassification);
  EXPECT_EQ(cls.config().num_labels, 3);
}

}  // namespace
