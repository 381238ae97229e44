// Real trained models (scripts/fetch_real_models.sh puts them in a cache outside the tree): f32
// Model::embed equals SentenceTransformer.encode on the committed texts of tests/data/real-models/NAME
// (made by tools/real_model_check.py --save-golden). Skipped, saying why, when the cache is absent.
#include <gtest/gtest.h>

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "api_test_util.h"

using namespace bertcpp;
using namespace bertcpp::apitest;
namespace fs = std::filesystem;

namespace {

// Same default as scripts/fetch_real_models.sh.
fs::path cache_dir() {
  if (const char* c = std::getenv("BERTCPP_MODELS_CACHE"); c && *c) return c;
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "bertcpp" / "real-models";
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/nonexistent") / ".cache" / "bertcpp" / "real-models";
}

struct Case {
  const char* folder;  // under the cache's models/
  const char* golden;  // under tests/data/real-models/
};

class RealModel : public ::testing::TestWithParam<Case> {};

TEST_P(RealModel, F32EmbeddingsEqualSentenceTransformers) {
  const Case c = GetParam();
  const fs::path folder = cache_dir() / "models" / c.folder;
  if (!fs::exists(folder / "config.json"))
    GTEST_SKIP() << folder.string() << " not found: run scripts/fetch_real_models.sh (or set BERTCPP_MODELS_CACHE)";
  const fs::path golden = fs::path(BERTCPP_TEST_DATA) / "real-models" / c.golden;
  const io::Checkpoint file = io::Checkpoint::open(golden / "expected.safetensors");
  std::ifstream in(golden / "expected.json");
  const nlohmann::json meta = nlohmann::json::parse(in);
  std::vector<std::string> texts;
  for (const auto& t : meta["texts"]) texts.push_back(t.get<std::string>());
  const Tensor want = file.get("sentence_embedding").to_f32();
  ASSERT_EQ(want.dim(0), static_cast<int64_t>(texts.size()));

  const Model m = Model::from_pretrained(folder.string());
  EXPECT_TRUE(m.default_normalize());
  EXPECT_LE(max_abs_diff(want, m.embed(texts)), 1e-5);
  // One at a time too: no padding, the long text alone at max_seq_length.
  Tensor one_by_one = Tensor::empty(DType::F32, {want.dim(0), want.dim(1)});
  for (size_t i = 0; i < texts.size(); ++i) {
    const Tensor e = m.embed(std::span<const std::string>(&texts[i], 1));
    std::copy(e.data<float>(), e.data<float>() + want.dim(1), one_by_one.data<float>() + i * want.dim(1));
  }
  EXPECT_LE(max_abs_diff(want, one_by_one), 1e-5);
}

INSTANTIATE_TEST_SUITE_P(Cache, RealModel,
                         ::testing::Values(Case{"all-MiniLM-L6-v2", "all-MiniLM-L6-v2"},
                                           // the other package: tokenizer.json only, same weights
                                           Case{"all-MiniLM-L6-v2-zip", "all-MiniLM-L6-v2"},
                                           Case{"all-mpnet-base-v2", "all-mpnet-base-v2"}),
                         [](const auto& info) {
                           std::string n = info.param.folder;
                           for (char& ch : n)
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           return n;
                         });

}  // namespace
