// Every case of every golden file in tests/data/tokenizer/*.json (made by transformers 4.19's slow
// BertTokenizer on Python 3.11 / unicodedata 14.0): tokens, input_ids, pairs, truncation.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>

#include "bertcpp/tokenizer.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using bertcpp::EncodeOptions;
using bertcpp::Tokenizer;
using bertcpp::TokenizerOptions;

namespace {

const fs::path kData = BERTCPP_TEST_DATA;

json load_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

TokenizerOptions options_of(const json& o) {
  TokenizerOptions t;
  if (o.contains("do_lower_case")) t.do_lower_case = o["do_lower_case"].get<bool>();
  if (o.contains("strip_accents") && !o["strip_accents"].is_null()) t.strip_accents = o["strip_accents"].get<bool>();
  if (o.contains("tokenize_chinese_chars")) t.tokenize_chinese_chars = o["tokenize_chinese_chars"].get<bool>();
  return t;
}

std::string show(const std::string& s) { return json(s).dump(); }

class Golden : public ::testing::TestWithParam<std::string> {};

void check_file(const fs::path& file, const Tokenizer& tok) {
  json g = load_json(file);
  size_t n = 0;
  for (const auto& c : g["cases"]) {
    const std::string text = c["text"];
    auto tokens = tok.tokenize(text);
    EXPECT_EQ(tokens, c["tokens"].get<std::vector<std::string>>()) << "text " << show(text);
    auto e = tok.encode(text);
    EXPECT_EQ(e.input_ids, c["input_ids"].get<std::vector<int64_t>>()) << "text " << show(text);
    ++n;
  }
  EXPECT_GT(n, 400u);
  for (const auto& p : g["pairs"]) {
    EncodeOptions o;
    o.max_length = p["max_length"].get<int64_t>();
    ASSERT_EQ(p["truncation"], "longest_first");
    ASSERT_EQ(p["padding"], "max_length");
    o.truncation = bertcpp::Truncation::LongestFirst;
    o.padding = bertcpp::Padding::MaxLength;
    auto e = tok.encode_pair(p["text_a"].get<std::string>(), p["text_b"].get<std::string>(), o);
    const std::string what = show(p["text_a"]) + " / " + show(p["text_b"]);
    EXPECT_EQ(e.input_ids, p["input_ids"].get<std::vector<int64_t>>()) << what;
    EXPECT_EQ(e.token_type_ids, p["token_type_ids"].get<std::vector<int64_t>>()) << what;
    EXPECT_EQ(e.attention_mask, p["attention_mask"].get<std::vector<int64_t>>()) << what;
  }
  EXPECT_GT(g["pairs"].size(), 10u);
  for (const auto& c : g["truncation"]) {
    EncodeOptions o;
    o.max_length = c["max_length"].get<int64_t>();
    o.truncation = bertcpp::Truncation::LongestFirst;
    auto e = tok.encode(c["text"].get<std::string>(), o);
    EXPECT_EQ(e.input_ids, c["input_ids"].get<std::vector<int64_t>>()) << "text " << show(c["text"]);
  }
  EXPECT_GT(g["truncation"].size(), 100u);
}

TEST_P(Golden, FromVocab) {
  const fs::path file = kData / "tokenizer" / (GetParam() + ".json");
  json g = load_json(file);
  Tokenizer tok = Tokenizer::from_vocab(kData / g["vocab"].get<std::string>(), options_of(g["options"]));
  check_file(file, tok);
}

INSTANTIATE_TEST_SUITE_P(AllVariants, Golden,
                         ::testing::Values("uncased", "cased", "uncased-keep-accents", "uncased-no-cjk-split", "chinese",
                                           "multilingual-cased"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(GoldenDir, UncasedFromVocabTxtAndConfig) {
  // bert-base-uncased as a user has it: vocab.txt + tokenizer_config.json (do_lower_case true).
  // The folder also has tokenizer.json: these goldens are the slow BertTokenizer's, asked for.
  TokenizerOptions slow;
  slow.backend = bertcpp::TokenizerBackend::Slow;
  check_file(kData / "tokenizer" / "uncased.json", Tokenizer::from_dir(kData / "vocabs" / "bert-base-uncased", slow));
}

TEST(GoldenDir, UncasedFromTokenizerJson) {
  // Only tokenizer.json (+ the same folder's tokenizer_config.json) in a copy of the folder.
  fs::path tmp = fs::temp_directory_path() / ("bertcpp_tokjson_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  fs::copy_file(kData / "vocabs" / "bert-base-uncased" / "tokenizer.json", tmp / "tokenizer.json",
                fs::copy_options::overwrite_existing);
  TokenizerOptions slow;  // a WordPiece tokenizer.json read as the slow BertTokenizer
  slow.backend = bertcpp::TokenizerBackend::Slow;
  Tokenizer tok = Tokenizer::from_dir(tmp, slow);
  EXPECT_EQ(tok.vocab_size(), 30522u);
  EXPECT_EQ(tok.cls_token_id(), 101);
  EXPECT_EQ(tok.sep_token_id(), 102);
  EXPECT_EQ(tok.pad_token_id(), 0);
  EXPECT_EQ(tok.mask_token_id(), 103);
  EXPECT_EQ(tok.unk_token_id(), 100);
  check_file(kData / "tokenizer" / "uncased.json", tok);
  fs::remove_all(tmp);
}

TEST(GoldenDir, CasedFromDir) {
  check_file(kData / "tokenizer" / "cased.json", Tokenizer::from_dir(kData / "vocabs" / "bert-base-cased"));
}

TEST(GoldenDir, ChineseFromDir) {
  check_file(kData / "tokenizer" / "chinese.json", Tokenizer::from_dir(kData / "vocabs" / "bert-base-chinese"));
}

}  // namespace
