// SentencePiece-only folders: hostile model files (the ModelProto reader checks every length) and
// the errors that name what is wrong. Exactness is in fast_golden_test.cpp (SentencePiece/*).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"

namespace fs = std::filesystem;
using namespace bertcpp;

namespace {

const fs::path kSp = fs::path(BERTCPP_TEST_DATA) / "sentencepiece";

std::string read(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

struct Folder {
  fs::path d = fs::temp_directory_path() / ("bertcpp_sp_" + std::to_string(::getpid()));
  Folder(const std::string& model, const std::string& config) {
    fs::remove_all(d);
    fs::create_directories(d);
    std::ofstream(d / "sentencepiece.bpe.model", std::ios::binary) << model;
    std::ofstream(d / "tokenizer_config.json", std::ios::binary) << config;
  }
  ~Folder() { fs::remove_all(d); }
};

const char* kXlmr = R"({"tokenizer_class": "XLMRobertaTokenizer"})";

}  // namespace

TEST(SentencePieceModel, TruncatedAndCorruptedFilesAreInvalidFileErrors) {
  const std::string model = read(kSp / "camembert-unigram-bytefallback-identity" / "sentencepiece.bpe.model");
  ASSERT_GT(model.size(), 1000u);
  int errors = 0, loaded = 0;
  for (size_t cut : {size_t(0), size_t(1), size_t(2), size_t(7), size_t(100), model.size() / 3, model.size() - 1}) {
    Folder f(model.substr(0, cut), kXlmr);
    try {
      (void)Tokenizer::from_dir(f.d).encode("hello world");
      ++loaded;  // a cut at a field boundary is a valid, shorter model
    } catch (const Error& e) {
      ++errors;
      EXPECT_EQ(e.kind(), ErrorKind::InvalidFile) << e.what();
      EXPECT_NE(std::string(e.what()).find("sentencepiece.bpe.model"), std::string::npos) << e.what();
    }
  }
  EXPECT_GE(errors, 5);
  // Every byte position overwritten with 0xFF (a huge varint / length): no crash, at most an error.
  for (size_t pos = 0; pos < model.size(); pos += 97) {
    std::string m = model;
    m[pos] = '\xff';
    Folder f(m, kXlmr);
    try {
      (void)Tokenizer::from_dir(f.d).encode("hello <mask> world");
    } catch (const Error&) {
    }
  }
  (void)loaded;
}

TEST(SentencePieceModel, LengthPastTheEndNamesTheOffset) {
  // Field 1 (pieces), wire type 2, length 100 with 1 byte left after it (at byte 2).
  Folder f(std::string("\x0a\x64\x00", 3), kXlmr);
  try {
    (void)Tokenizer::from_dir(f.d);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
    EXPECT_NE(std::string(e.what()).find("at byte 2"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("length 100"), std::string::npos) << e.what();
  }
}

TEST(SentencePieceModel, BadExtraIdsIsInvalidFileNamingIt) {
  const std::string model = read(kSp / "t5-unigram" / "spiece.model");
  for (const char* bad : {"-1", "\"5\"", "2.5"}) {
    Folder f(model, std::string(R"({"tokenizer_class": "T5Tokenizer", "extra_ids": )") + bad + "}");
    try {
      (void)Tokenizer::from_dir(f.d);
      FAIL() << "expected an error for extra_ids " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidFile) << e.what();
      EXPECT_NE(std::string(e.what()).find("extra_ids"), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    }
  }
}

TEST(SentencePieceModel, BadAddedTokensDecoderIsInvalidFileNamingTheEntry) {
  const std::string model = read(kSp / "xlmr-unigram" / "sentencepiece.bpe.model");
  const std::pair<const char*, const char*> cases[] = {
      {R"({"x": {"content": "<a>"}})", "added_tokens_decoder.x"},
      {R"({"7": {"lstrip": true}})", "added_tokens_decoder.7"},
      {R"({"7": {"content": "<a>", "special": "yes"}})", "added_tokens_decoder.7.special"},
      {R"(["<a>"])", "added_tokens_decoder"}};
  for (const auto& [bad, named] : cases) {
    Folder f(model, std::string(R"({"tokenizer_class": "XLMRobertaTokenizer", "added_tokens_decoder": )") + bad + "}");
    try {
      (void)Tokenizer::from_dir(f.d);
      FAIL() << "expected an error for " << bad;
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::InvalidFile) << e.what();
      EXPECT_NE(std::string(e.what()).find(named), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("tokenizer_config.json"), std::string::npos) << e.what();
    }
  }
}

TEST(SentencePieceModel, UnknownTokenizerClassIsUnsupportedNamingIt) {
  const std::string model = read(kSp / "xlmr-unigram" / "sentencepiece.bpe.model");
  Folder f(model, R"({"tokenizer_class": "MarianTokenizer"})");
  try {
    (void)Tokenizer::from_dir(f.d);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("MarianTokenizer"), std::string::npos) << e.what();
  }
  // The slow backend has no SentencePiece tokenizer.
  Folder g(model, kXlmr);
  TokenizerOptions o;
  o.backend = TokenizerBackend::Slow;
  EXPECT_THROW((void)Tokenizer::from_dir(g.d, o), Error);
  EXPECT_TRUE(Tokenizer::from_dir(g.d).is_fast());
}
