// docs/api.md's examples: the C++ and C code blocks must compile (checked with the system
// compiler, syntax only), and the same code runs here against tiny-bert.
#include "bertcpp/bertcpp.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bertcpp/bertcpp.hpp"

namespace {
namespace fs = std::filesystem;

std::string code_block(const std::string& lang) {
  std::ifstream in(fs::path(BERTCPP_SOURCE_DIR) / "docs" / "api.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string fence = "```" + lang + "\n";
  const size_t b = doc.find(fence);
  if (b == std::string::npos) return "";
  const size_t e = doc.find("```\n", b + fence.size());
  return doc.substr(b + fence.size(), e - b - fence.size());
}

bool have(const char* compiler) { return std::system((std::string("command -v ") + compiler + " >/dev/null 2>&1").c_str()) == 0; }

void expect_compiles(const std::string& lang, const char* compiler, const std::string& flags, const char* ext) {
  const std::string code = code_block(lang);
  ASSERT_FALSE(code.empty()) << "docs/api.md has no ```" << lang << " block";
  if (!have(compiler)) GTEST_SKIP() << compiler << " not installed";
  const fs::path src = fs::temp_directory_path() / ("bertcpp_doc_" + std::to_string(::getpid()) + ext);
  std::ofstream(src) << code;
  const std::string cmd = std::string(compiler) + " " + flags + " -fsyntax-only -Wall -Wextra -Werror -I" + BERTCPP_SOURCE_DIR +
                          "/include " + src.string();
  EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
  fs::remove(src);
}

TEST(DocsExamples, CppBlockCompiles) { expect_compiles("cpp", "c++", "-std=c++20", ".cpp"); }
TEST(DocsExamples, CBlockCompilesAsC) { expect_compiles("c", "cc", "-std=c11", ".c"); }

const std::string kModel = std::string(BERTCPP_TEST_DATA) + "/models/tiny-bert";

// The C++ example's body.
TEST(DocsExamples, CppExampleRuns) {
  bertcpp::ModelOptions options;
  options.threads = 2;
  const bertcpp::Model model = bertcpp::Model::from_pretrained(kModel, options);
  const std::vector<std::string> texts{"The cat sits on the mat.", "A feline rests on a rug."};
  const bertcpp::Tensor emb = model.embed(texts, bertcpp::Pooling::Mean, /*normalize=*/true);
  const int64_t dim = emb.dim(1);
  const float* v = emb.data<float>();
  double cosine = 0;
  for (int64_t k = 0; k < dim; ++k) cosine += double(v[k]) * v[dim + k];
  EXPECT_EQ(dim, 32);
  EXPECT_LE(std::abs(cosine), 1.0 + 1e-6);
  const std::vector<bertcpp::Encoding> enc = model.tokenizer().encode_batch(texts);
  const bertcpp::Batch batch = bertcpp::Batch::from_encodings(enc, model.tokenizer().pad_token_id());
  const bertcpp::ModelOutput out = model.forward(batch);
  EXPECT_EQ(out.last_hidden_state.dim(0), 2);
  EXPECT_EQ(out.last_hidden_state.dim(2), 32);
}

// The C example's body (with the casts C++ needs).
TEST(DocsExamples, CExampleRuns) {
  bertcpp_model_params params = bertcpp_model_default_params();
  params.n_threads = 2;
  bertcpp_model* model = nullptr;
  int rc = bertcpp_model_load(kModel.c_str(), &params, &model);
  ASSERT_EQ(rc, BERTCPP_OK) << bertcpp_last_error();
  const char* texts[2] = {"The cat sits on the mat.", "A feline rests on a rug."};
  const size_t dim = static_cast<size_t>(bertcpp_model_hidden_size(model));
  float* emb = static_cast<float*>(malloc(2 * dim * sizeof(float)));
  rc = bertcpp_embed(model, texts, 2, BERTCPP_POOLING_MEAN, 1, emb, 2 * dim);
  EXPECT_EQ(rc, BERTCPP_OK) << bertcpp_last_error();
  bertcpp_tokenizer* tok = nullptr;
  ASSERT_EQ(bertcpp_model_get_tokenizer(model, &tok), BERTCPP_OK);
  size_t n = 0;
  bertcpp_tokenize(tok, texts[0], 1, nullptr, 0, &n);
  int64_t* ids = static_cast<int64_t*>(malloc(n * sizeof(int64_t)));
  EXPECT_EQ(bertcpp_tokenize(tok, texts[0], 1, ids, n, &n), BERTCPP_OK);
  EXPECT_EQ(ids[0], 101);
  free(ids);
  bertcpp_tokenizer_free(tok);
  free(emb);
  bertcpp_model_free(model);
}

}  // namespace
