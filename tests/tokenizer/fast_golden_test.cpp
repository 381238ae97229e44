// Every case of tests/data/tokenizer_fast/*.json.gz (made by the Rust tokenizers library through its
// Python binding, tools/make_tokenizer_goldens.py): ids, type ids, tokens, char offsets, word ids,
// special-token masks, pairs, truncation with stride and overflowing windows, padding, decode.
#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace bertcpp;

namespace {

const fs::path kData = BERTCPP_TEST_DATA;

json load_gz(const fs::path& p) {
  gzFile f = gzopen(p.string().c_str(), "rb");
  if (!f) throw std::runtime_error("cannot open " + p.string());
  std::string s;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) s.append(buf, static_cast<size_t>(n));
  gzclose(f);
  return json::parse(s);
}

std::vector<std::pair<int64_t, int64_t>> offsets_of(const json& j) {
  std::vector<std::pair<int64_t, int64_t>> o;
  for (const auto& x : j) o.emplace_back(x[0].get<int64_t>(), x[1].get<int64_t>());
  return o;
}

// Empty when equal, else the first differing field.
std::string diff(const Encoding& e, const json& g, bool overflow) {
  if (e.input_ids != g["ids"].get<std::vector<int64_t>>()) return "ids";
  if (e.token_type_ids != g["type_ids"].get<std::vector<int64_t>>()) return "type_ids";
  if (e.tokens != g["tokens"].get<std::vector<std::string>>()) return "tokens";
  if (e.offsets != offsets_of(g["offsets"])) return "offsets";
  if (e.word_ids != g["word_ids"].get<std::vector<int64_t>>()) return "word_ids";
  if (e.special_tokens_mask != g["special_tokens_mask"].get<std::vector<int64_t>>()) return "special_tokens_mask";
  if (g.contains("attention_mask")) {
    if (e.attention_mask != g["attention_mask"].get<std::vector<int64_t>>()) return "attention_mask";
  } else if (std::count(e.attention_mask.begin(), e.attention_mask.end(), 0) != 0) {
    return "attention_mask";
  }
  if (overflow) {
    const json& ov = g["overflowing"];
    if (e.overflowing.size() != ov.size())
      return "overflowing count " + std::to_string(e.overflowing.size()) + " vs " + std::to_string(ov.size());
    for (size_t i = 0; i < ov.size(); ++i) {
      std::string d = diff(e.overflowing[i], ov[i], false);
      if (!d.empty()) return "overflowing[" + std::to_string(i) + "]." + d;
    }
  }
  return "";
}

Truncation strategy_of(const std::string& s) {
  if (s == "longest_first") return Truncation::LongestFirst;
  if (s == "only_first") return Truncation::OnlyFirst;
  return Truncation::OnlySecond;
}

struct Failures {
  std::map<std::string, int> count;
  std::vector<std::string> first;
  void add(const std::string& what, size_t i, const std::string& text) {
    if (count[what]++ == 0 && first.size() < 12) first.push_back("case " + std::to_string(i) + " " + what + ": " + json(text).dump());
  }
  void report(size_t total) const {
    int n = 0;
    for (const auto& [k, v] : count) n += v;
    std::string msg;
    for (const auto& [k, v] : count) msg += k + "=" + std::to_string(v) + " ";
    for (const auto& f : first) msg += "\n  " + f;
    EXPECT_EQ(n, 0) << "of " << total << " cases: " << msg;
  }
};

class FastGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(FastGolden, EveryCase) {
  // "dir/name": a golden file beside its folders (tests/data/sentencepiece/), else tokenizer_fast/.
  const bool nested = GetParam().find('/') != std::string::npos;
  const json g = load_gz(nested ? kData / (GetParam() + ".json.gz") : kData / "tokenizer_fast" / (GetParam() + ".json.gz"));
  TokenizerOptions topt;
  topt.backend = TokenizerBackend::Fast;
  const Tokenizer tok = Tokenizer::from_dir(kData / "vocabs" / g["tokenizer"].get<std::string>(), topt);
  ASSERT_TRUE(tok.is_fast());
  Failures f;
  const json& cases = g["cases"];
  ASSERT_GE(cases.size(), 400u);
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& c = cases[i];
    const std::string text = c["text"].get<std::string>();
    Encoding e;
    try {
      e = tok.encode(text);
    } catch (const std::exception& ex) {
      f.add(std::string("single threw ") + ex.what(), i, text);
      continue;
    }
    if (auto d = diff(e, c["single"], false); !d.empty()) f.add("single." + d, i, text);
    EncodeOptions ns;
    ns.add_special_tokens = false;
    if (tok.encode(text, ns).input_ids != c["no_special_ids"].get<std::vector<int64_t>>()) f.add("no_special", i, text);
    if (tok.decode(e.input_ids, false) != c["decode"].get<std::string>()) f.add("decode", i, text);
    if (tok.decode(e.input_ids, true) != c["decode_skip"].get<std::string>()) f.add("decode_skip", i, text);
    if (c.contains("random_ids")) {
      auto ids = c["random_ids"].get<std::vector<int64_t>>();
      if (tok.decode(ids, false) != c["random_decode"].get<std::string>()) f.add("random_decode", i, text);
    }
    if (c.contains("pair")) {
      Encoding p = tok.encode_pair(text, c["pair_text"].get<std::string>());
      if (auto d = diff(p, c["pair"], false); !d.empty()) f.add("pair." + d, i, text);
    }
    if (c.contains("truncation")) {
      const json& t = c["truncation"];
      EncodeOptions o;
      o.truncation = strategy_of(t["strategy"].get<std::string>());
      o.max_length = t["max_length"].get<int64_t>();
      o.stride = t["stride"].get<int64_t>();
      o.truncation_side = t["direction"] == "left" ? TruncationSide::Left : TruncationSide::Right;
      const std::string tt = t["text"].get<std::string>(), pt = t["pair_text"].get<std::string>();
      if (t.contains("pair_error")) {
        bool threw = false;
        try {
          (void)tok.encode_pair(tt, pt, o);
        } catch (const Error&) {
          threw = true;
        }
        if (!threw) f.add("trunc.pair should throw", i, tt);
      } else {
        try {
          if (auto d = diff(tok.encode_pair(tt, pt, o), t["pair"], true); !d.empty()) f.add("trunc.pair." + d, i, tt);
        } catch (const std::exception& ex) {
          f.add(std::string("trunc.pair threw ") + ex.what(), i, tt);
        }
      }
      if (t.contains("single_error")) {
        bool threw = false;
        try {
          (void)tok.encode(tt, o);
        } catch (const Error&) {
          threw = true;
        }
        if (!threw) f.add("trunc.single should throw", i, tt);
      } else if (t.contains("single")) {
        try {
          if (auto d = diff(tok.encode(tt, o), t["single"], true); !d.empty()) f.add("trunc.single." + d, i, tt);
        } catch (const std::exception& ex) {
          f.add(std::string("trunc.single threw ") + ex.what(), i, tt);
        }
      }
    }
  }
  for (size_t b = 0; b < g["padding"].size(); ++b) {
    const json& pb = g["padding"][b];
    std::vector<std::string> texts = pb["texts"].get<std::vector<std::string>>();
    EncodeOptions o;
    o.padding = Padding::Longest;
    o.padding_side = pb["side"] == "left" ? TruncationSide::Left : TruncationSide::Right;
    auto encs = tok.encode_batch(texts, o, 2);
    for (size_t k = 0; k < encs.size(); ++k)
      if (auto d = diff(encs[k], pb["encodings"][k], false); !d.empty()) f.add("padding." + d, b, texts[k]);
  }
  // AutoTokenizer's own batch padding: the tokenizer class's padding side and pad type id.
  if (g.contains("auto_padding")) {
    const json& ap = g["auto_padding"];
    for (size_t b = 0; b < ap["batches"].size(); ++b) {
      const json& pb = ap["batches"][b];
      const auto texts = pb["texts"].get<std::vector<std::string>>();
      EncodeOptions o;
      o.padding = Padding::Longest;
      std::vector<Encoding> encs;
      if (pb["pairs"].is_null()) {
        encs = tok.encode_batch(texts, o, 2);
      } else {
        std::vector<std::pair<std::string, std::string>> pairs;
        for (size_t k = 0; k < texts.size(); ++k) pairs.emplace_back(texts[k], pb["pairs"][k].get<std::string>());
        encs = tok.encode_pair_batch(pairs, o, 2);
      }
      for (size_t k = 0; k < encs.size(); ++k) {
        if (encs[k].input_ids != pb["input_ids"][k].get<std::vector<int64_t>>()) f.add("auto_padding.input_ids", b, texts[k]);
        if (encs[k].attention_mask != pb["attention_mask"][k].get<std::vector<int64_t>>())
          f.add("auto_padding.attention_mask", b, texts[k]);
        if (encs[k].token_type_ids != pb["token_type_ids"][k].get<std::vector<int64_t>>())
          f.add("auto_padding.token_type_ids", b, texts[k]);
      }
    }
  }
  f.report(cases.size());
}

INSTANTIATE_TEST_SUITE_P(Files, FastGolden, ::testing::Values("bert-base-uncased", "roberta-base", "unigram-xlmr", "all-mpnet-base-v2",
                                                           // one WordLevel tokenizer per group of components
                                                           "components-nfkc-lower-whitespace", "components-nfd-strip-wssplit",
                                                           "components-nfc-replace-prepend-punct",
                                                           "components-nmt-nfkd-digits-char", "components-split-behaviors",
                                                           "components-bytelevel-noregex-metaspace-first",
                                                           // folders written by transformers 5's save_pretrained (TokenizersBackend)
                                                           "backend-roberta-base", "backend-unigram-xlmr"),
                         [](const auto& info) {
                           std::string s = info.param;
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

// SentencePiece-only folders (no tokenizer.json), goldens from transformers' AutoTokenizer
// (tools/make_sentencepiece_goldens.py).
INSTANTIATE_TEST_SUITE_P(SentencePiece, FastGolden,
                         ::testing::Values("sentencepiece/xlmr-unigram", "sentencepiece/xlmr-bpe-bytefallback",
                                           "sentencepiece/camembert-unigram-bytefallback-identity",
                                           "sentencepiece/albert-unigram", "sentencepiece/albert-bpe-cased-accents",
                                           "sentencepiece/deberta-v2-unigram",
                                           "sentencepiece/deberta-v2-bpe-lower-punct-noprefix",
                                           "sentencepiece/t5-unigram", "sentencepiece/t5-bpe-extra5",
                                           "sentencepiece/xlnet-unigram", "sentencepiece/xlnet-bpe-lower",
                                           "sentencepiece/xlmr-unigram-extra-specials",
                                           "sentencepiece/t5-unigram-extra-specials",
                                           "sentencepiece/albert-unigram-extra-specials",
                                           // tokenizer_config.json: extra_special_tokens as a dict, listed
                                           // single_word / normalized AddedTokens, added_tokens_decoder
                                           "sentencepiece/xlmr-unigram-extra-dict", "sentencepiece/xlmr-unigram-extra-flags",
                                           "sentencepiece/xlmr-unigram-added-tokens-decoder"),
                         [](const auto& info) {
                           std::string s = info.param.substr(info.param.find('/') + 1);
                           for (char& c : s)
                             if (c == '-') c = '_';
                           return s;
                         });

TEST(FastLoading, UnknownComponentIsUnsupportedNamingIt) {
  fs::path d = fs::temp_directory_path() / ("bertcpp_fastbad_" + std::to_string(::getpid()));
  fs::create_directories(d);
  auto write = [&](const std::string& s) { std::ofstream(d / "tokenizer.json") << s; };
  write(R"({"model": {"type": "WordLevel", "vocab": {"a": 0, "<unk>": 1}, "unk_token": "<unk>"},
            "pre_tokenizer": {"type": "NoSuchThing"}})");
  try {
    (void)Tokenizer::from_dir(d);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::Unsupported);
    EXPECT_NE(std::string(e.what()).find("NoSuchThing"), std::string::npos) << e.what();
  }
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})");
  try {
    (void)Tokenizer::from_dir(d);
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidFile);
    EXPECT_NE(std::string(e.what()).find("merges[0]"), std::string::npos) << e.what();
  }
  write(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [], "dropout": 0.1}})");
  EXPECT_THROW((void)Tokenizer::from_dir(d), Error);
  write(R"({"model": {"type": "WordLevel", "vocab": {"a": 0, "<unk>": 1}, "unk_token": "<unk>"},
            "pre_tokenizer": {"type": "WhitespaceSplit"}})");
  Tokenizer t = Tokenizer::from_dir(d);
  EXPECT_TRUE(t.is_fast());
  EXPECT_EQ(t.encode("a b  a").input_ids, (std::vector<int64_t>{0, 1, 0}));
  fs::remove_all(d);
}

}  // namespace
