// ModernBERT loading: a head the checkpoint lacks, weights the config needs but the file lacks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "golden_util.h"
#include "model/network.h"

using namespace bertcpp;

namespace {

// tiny-modernbert's weights with its config.json edited by `edit`, in a temporary folder.
std::filesystem::path variant(const std::string& tag, void (*edit)(nlohmann::json&)) {
  const auto src = bertcpp::testing::model_dir("tiny-modernbert");
  const auto dir = std::filesystem::temp_directory_path() / ("bertcpp-modernbert-" + tag + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(src / "model.safetensors", dir / "model.safetensors",
                             std::filesystem::copy_options::overwrite_existing);
  nlohmann::json j;
  std::ifstream(src / "config.json") >> j;
  edit(j);
  std::ofstream(dir / "config.json") << j.dump();
  return dir;
}

TEST(ModernBert, MissingHeadLoadsTheBaseModelAndNamesTheWeights) {
  const auto dir = variant("mlm", [](nlohmann::json& j) { j["architectures"] = {"ModernBertForMaskedLM"}; });
  const auto m = model::load_network(dir, {});
  EXPECT_EQ(m->head(), model::HeadKind::MaskedLM);
  EXPECT_NE(m->head_missing().find("head.dense.weight"), std::string::npos) << m->head_missing();
  const bertcpp::testing::Golden g(bertcpp::testing::model_dir("tiny-modernbert"));
  const model::Input in = g.batch("single");
  EXPECT_THROW(m->forward(in, {}), Error);
  model::Request base;
  base.head = false;
  EXPECT_LE(bertcpp::testing::max_abs_diff(g.get("single", "last_hidden_state"), m->forward(in, base).last_hidden_state),
            1e-4);
  std::filesystem::remove_all(dir);
}

TEST(ModernBert, MissingLayerWeightsAreOneErrorNamingThem) {
  const auto dir = variant("layers", [](nlohmann::json& j) {
    j["num_hidden_layers"] = 4;
    j["layer_types"].push_back("full_attention");
  });
  try {
    model::load_network(dir, {});
    ADD_FAILURE() << "loaded a 4-layer model from 3 layers of weights";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("missing layers.3.attn.Wqkv.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("missing layers.3.mlp.Wo.weight"), std::string::npos) << msg;
  }
  std::filesystem::remove_all(dir);
}

TEST(ModernBert, LongerThanMaxPositionsIsRejected) {
  const auto m = model::load_network(bertcpp::testing::model_dir("tiny-modernbert"), {});
  model::Input in;
  in.input_ids = Tensor::zeros(DType::I64, {1, 129});
  EXPECT_THROW(m->forward(in, {}), Error);
}

}  // namespace
