// Model ids go through the hub layer: an offline HF cache (same layout as huggingface_hub) built
// here from tiny-bert resolves "org/name" for the default and an explicit revision.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "api_test_util.h"

namespace bertcpp::apitest {
namespace {
namespace fs = std::filesystem;

class OfflineHubCache : public ::testing::Test {
 protected:
  const std::string sha = "0123456789abcdef0123456789abcdef01234567";
  void SetUp() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_HUB_OFFLINE"})
      if (const char* old = std::getenv(v)) saved_[v] = old;
    cache_ = fs::temp_directory_path() / ("bertcpp_hubcache_" + std::to_string(::getpid()));
    fs::remove_all(cache_);
    const fs::path repo = cache_ / "models--test-org--tiny-bert";
    fs::create_directories(repo / "snapshots" / sha);
    fs::create_directories(repo / "refs");
    for (const char* f : {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"})
      fs::copy_file(model_path("tiny-bert") / f, repo / "snapshots" / sha / f);
    std::ofstream(repo / "refs" / "main") << sha;
    ::setenv("HF_HUB_CACHE", cache_.c_str(), 1);
    ::setenv("HF_HUB_OFFLINE", "1", 1);
  }
  void TearDown() override {
    for (const char* v : {"HF_HUB_CACHE", "HF_HUB_OFFLINE"}) {
      if (saved_.count(v)) ::setenv(v, saved_[v].c_str(), 1);
      else ::unsetenv(v);
    }
    fs::remove_all(cache_);
  }
  fs::path cache_;
  std::map<std::string, std::string> saved_;
};

TEST_F(OfflineHubCache, IdResolvesToTheCachedSnapshot) {
  const Model m = Model::from_pretrained("test-org/tiny-bert");
  EXPECT_EQ(m.name(), "test-org/tiny-bert");
  EXPECT_NE(m.directory().find(sha), std::string::npos) << m.directory();
  const Tensor e = m.embed(std::vector<std::string>{"Hello, world!"});
  EXPECT_LE(max_abs_diff(load("tiny-bert").embed(std::vector<std::string>{"Hello, world!"}), e), 0.0);
  const Tokenizer t = Tokenizer::from_pretrained("test-org/tiny-bert");
  EXPECT_EQ(t.encode("hello").input_ids.size(), 3u);
}

TEST_F(OfflineHubCache, RevisionComesFromModelOptions) {
  ModelOptions o;
  o.revision = sha;  // a commit hash names the snapshot directly
  EXPECT_NO_THROW(Model::from_pretrained("test-org/tiny-bert", o));
  o.revision = "v2";
  expect_error([&] { Model::from_pretrained("test-org/tiny-bert", o); }, ErrorKind::NotFound, "v2");
  expect_error([] { Model::from_pretrained("test-org/not-cached"); }, ErrorKind::NotFound, "test-org/not-cached");
}

}  // namespace
}  // namespace bertcpp::apitest
