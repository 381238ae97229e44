// Tokenizer behaviour beyond the goldens: offsets over the whole golden corpus, Python's Unicode
// rules, invalid UTF-8 / NUL / empty / long inputs, truncation strategies, padding, batches,
// decode, added tokens, tokenizer.json options. Expected values come from transformers' documented
// algorithms (worked by hand in the comments) or from /usr/bin/python3 (noted), never from our output.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "tokenizer/unicode.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace bertcpp;

namespace {

const fs::path kData = BERTCPP_TEST_DATA;
const fs::path kUncased = kData / "vocabs" / "bert-base-uncased";

json load_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return json::parse(ss.str());
}

// The folder has tokenizer.json too: these tests are about the slow BertTokenizer.
TokenizerOptions slow_options() {
  TokenizerOptions o;
  o.backend = bertcpp::TokenizerBackend::Slow;
  return o;
}

const Tokenizer& uncased() {
  static const Tokenizer t = Tokenizer::from_dir(kUncased, slow_options());
  return t;
}

std::vector<std::string> toks(const Tokenizer& t, std::string_view s) { return t.tokenize(s); }

// Normalization as BasicTokenizer applies it to one word (clean, lower, strip accents).
std::u32string normalize(std::u32string s, bool lower, bool strip) {
  std::u32string c;
  for (char32_t ch : s)
    if (!(tok::flags(ch) & tok::kDrop)) c.push_back(ch);
  if (lower) c = tok::py_lower(c);
  if (!strip) return c;
  std::u32string d;
  for (char32_t ch : c) {
    char32_t buf[tok::kMaxNfdLen];
    int n = tok::nfd_char(ch, buf);
    d.append(buf, buf + n);
  }
  std::u32string out;
  for (char32_t ch : d)
    if (!(tok::flags(ch) & tok::kMn)) out.push_back(ch);
  // Order only matters between non-Mn marks; compare as multisets of marks is overkill here.
  return out;
}

// For every token: the original text at its offsets, normalized, is the token (without "##").
// Tokens whose spans overlap (one original character giving several pieces, e.g. U+0130 -> i +
// U+0307 split by WordPiece) are checked as a group.
TEST(Offsets, PropertyOverWholeGoldenCorpus) {
  size_t checked = 0;
  for (const char* variant : {"uncased", "cased", "uncased-keep-accents", "uncased-no-cjk-split", "chinese", "multilingual-cased"}) {
    json g = load_json(kData / "tokenizer" / (std::string(variant) + ".json"));
    TokenizerOptions o;
    const json& op = g["options"];
    if (op.contains("do_lower_case")) o.do_lower_case = op["do_lower_case"].get<bool>();
    if (op.contains("strip_accents") && !op["strip_accents"].is_null()) o.strip_accents = op["strip_accents"].get<bool>();
    if (op.contains("tokenize_chinese_chars")) o.tokenize_chinese_chars = op["tokenize_chinese_chars"].get<bool>();
    const bool lower = o.do_lower_case.value_or(true);
    const bool strip = lower ? o.strip_accents.value_or(true) : o.strip_accents.value_or(false);
    Tokenizer t = Tokenizer::from_vocab(kData / g["vocab"].get<std::string>(), o);
    EncodeOptions eo;
    eo.add_special_tokens = false;
    for (const auto& c : g["cases"]) {
      const std::string text = c["text"];
      const std::u32string u = tok::utf8_to_u32(text);
      Encoding e = t.encode(text, eo);
      ASSERT_EQ(e.tokens, c["tokens"].get<std::vector<std::string>>());
      size_t i = 0;
      int64_t prev_end = 0;
      while (i < e.size()) {
        int64_t b = e.offsets[i].first, en = e.offsets[i].second;
        std::string joined;
        bool has_unk = false;
        size_t j = i;
        for (; j < e.size() && (j == i || e.offsets[j].first < en); ++j) {
          b = std::min(b, e.offsets[j].first);
          en = std::max(en, e.offsets[j].second);
          std::string tk = e.tokens[j];
          // [UNK] and special tokens typed in the text ("[CLS]", never normalized) are not compared.
          if (tk == "[UNK]" || t.is_special_id(e.input_ids[j])) has_unk = true;
          // A piece starting with "##" is a continuation (words never start with '#': punctuation).
          if (tk.size() > 2 && tk.rfind("##", 0) == 0) tk = tk.substr(2);
          joined += tk;
        }
        ASSERT_LE(0, b) << text;
        ASSERT_LT(b, en) << text;
        ASSERT_LE(en, static_cast<int64_t>(u.size())) << text;
        ASSERT_LE(prev_end, b) << "offsets go backwards in " << json(text).dump();
        // byte offsets describe the same characters
        std::string sub_bytes = text.substr(static_cast<size_t>(e.byte_offsets[i].first),
                                            static_cast<size_t>(e.byte_offsets[j - 1].second - e.byte_offsets[i].first));
        if (!has_unk) {
          std::u32string sub = u.substr(static_cast<size_t>(b), static_cast<size_t>(en - b));
          std::u32string norm = normalize(sub, lower, strip);
          std::u32string want = tok::utf8_to_u32(joined);
          std::sort(norm.begin(), norm.end());  // canonical reordering may permute marks
          std::sort(want.begin(), want.end());
          EXPECT_EQ(tok::u32_to_utf8(norm), tok::u32_to_utf8(want))
              << variant << " text " << json(text).dump() << " tokens " << i << ".." << j - 1 << " " << json(joined).dump();
          EXPECT_EQ(tok::utf8_to_u32(sub_bytes).size(), static_cast<size_t>(en - b)) << text;
          ++checked;
        }
        prev_end = en;
        i = j;
      }
    }
  }
  EXPECT_GT(checked, 10000u);
}

TEST(Unicode, PythonLowerFinalSigma) {
  // Expected values printed by /usr/bin/python3 (3.11.2, unicodedata 14.0.0): str.lower().
  EXPECT_EQ(tok::py_lower(U"ΟΔΟΣ"), (std::u32string{0x3BF, 0x3B4, 0x3BF, 0x3C2}));
  EXPECT_EQ(tok::py_lower(U"ΣΑ"), (std::u32string{0x3C3, 0x3B1}));
  EXPECT_EQ(tok::py_lower(U"ΑΣ."), (std::u32string{0x3B1, 0x3C2, 0x2E}));
  EXPECT_EQ(tok::py_lower(U"Σ"), (std::u32string{0x3C3}));
  EXPECT_EQ(tok::py_lower(U"İ"), (std::u32string{0x69, 0x307}));
  EXPECT_EQ(tok::py_lower(U"ẞ"), (std::u32string{0xDF}));
  EXPECT_EQ(tok::py_lower(U"ΑΣ\u0301Β"), (std::u32string{0x3B1, 0x3C3, 0x301, 0x3B2}));
  EXPECT_EQ(tok::py_lower(U"A\u00ADΣ"), (std::u32string{0x61, 0xAD, 0x3C2}));
}

TEST(Unicode, Utf8DecodeLikePythonReplace) {
  // len(b'...'.decode('utf-8', 'replace')) in Python: maximal invalid subparts -> one U+FFFD each.
  EXPECT_EQ(tok::utf8_to_u32("abc\xff\xfe" "def\xe4\xb8"), (std::u32string{'a', 'b', 'c', 0xFFFD, 0xFFFD, 'd', 'e', 'f', 0xFFFD}));
  EXPECT_EQ(tok::utf8_to_u32("\xed\xa0\x80x").size(), 4u);
  EXPECT_EQ(tok::utf8_to_u32("\xf0\x9f\x98").size(), 1u);
  EXPECT_EQ(tok::utf8_to_u32("\xe0\x80\x80").size(), 3u);
  EXPECT_EQ(tok::utf8_to_u32("\xf0\x9f\x98\x80"), std::u32string(1, 0x1F600));
}

TEST(Inputs, InvalidUtf8IsReplacedThenDropped) {
  // U+FFFD is removed by _clean_text, and removed characters do not split words.
  EXPECT_EQ(toks(uncased(), "abc\xff\xfe" "def"), toks(uncased(), "abcdef"));
  EXPECT_EQ(toks(uncased(), "hello \xed\xa0\x80world\xe4\xb8"), toks(uncased(), "hello world"));
  Encoding e = uncased().encode("\xff\xff hi \xc3");
  ASSERT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "hi", "[SEP]"}));
  EXPECT_EQ(e.offsets[1], (std::pair<int64_t, int64_t>{3, 5}));       // code points, U+FFFD counted
  EXPECT_EQ(e.byte_offsets[1], (std::pair<int64_t, int64_t>{3, 5}));  // bytes
  for (int c = 0; c < 256; ++c) {  // every single byte, alone and inside a word: no crash
    std::string s = "a";
    s.push_back(static_cast<char>(c));
    s += "b";
    EXPECT_NO_THROW(uncased().encode(s));
    EXPECT_NO_THROW(uncased().encode(std::string(1, static_cast<char>(c))));
  }
}

TEST(Inputs, NulAndControlCharacters) {
  const std::string with_nul("ab\0cd\x01" "ef", 8);
  EXPECT_EQ(toks(uncased(), with_nul), toks(uncased(), "abcdef"));
  EXPECT_EQ(toks(uncased(), std::string("\0\0\0", 3)), std::vector<std::string>{});
}

TEST(Inputs, Empty) {
  EXPECT_TRUE(uncased().tokenize("").empty());
  Encoding e = uncased().encode("");
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{101, 102}));
  EXPECT_EQ(e.sequence_ids, (std::vector<int>{-1, -1}));
  EXPECT_TRUE(uncased().tokenize(" \t\n\r\u3000").empty());
}

TEST(Inputs, LongWordsAndLongText) {
  // max_input_chars_per_word = 100: a 101-character word is one [UNK], 100 characters is not.
  EXPECT_EQ(toks(uncased(), std::string(101, 'a')), std::vector<std::string>{"[UNK]"});
  auto t100 = toks(uncased(), std::string(100, 'a'));
  EXPECT_FALSE(t100.empty());
  EXPECT_EQ(std::count(t100.begin(), t100.end(), "[UNK]"), 0);
  std::string big;
  for (int i = 0; i < 100000; ++i) big += "hello world ";
  Encoding e = uncased().encode(big);
  EXPECT_EQ(e.size(), 200002u);
  EXPECT_EQ(e.offsets[200000], (std::pair<int64_t, int64_t>{1199994, 1199999}));
  EncodeOptions o;
  o.truncation = Truncation::LongestFirst;  // model_max_length 512 from tokenizer_config.json
  EXPECT_EQ(uncased().encode(big, o).size(), 512u);
}

std::vector<std::string> tokens_of(const Encoding& e) { return e.tokens; }

TEST(Truncation, Strategies) {
  const Tokenizer& t = uncased();
  EncodeOptions o;
  o.max_length = 6;
  // total = 5 + 2 + 3 = 10, remove 4. longest_first: a 5>2 ->4, 4>2 ->3, 3>2 ->2, 2>2 no -> b 1.
  o.truncation = Truncation::LongestFirst;
  EXPECT_EQ(tokens_of(t.encode_pair("a b c d e", "x y", o)),
            (std::vector<std::string>{"[CLS]", "a", "b", "[SEP]", "x", "[SEP]"}));
  o.truncation = Truncation::OnlyFirst;  // len(a) = 5 > 4: keep 1
  EXPECT_EQ(tokens_of(t.encode_pair("a b c d e", "x y", o)),
            (std::vector<std::string>{"[CLS]", "a", "[SEP]", "x", "y", "[SEP]"}));
  o.truncation = Truncation::OnlySecond;  // len(b) = 2 <= 4: transformers logs an error, no truncation
  EXPECT_EQ(t.encode_pair("a b c d e", "x y", o).size(), 10u);
  o.truncation = Truncation::OnlySecond;
  o.max_length = 8;  // remove 2 from b of 4
  EXPECT_EQ(tokens_of(t.encode_pair("a b c", "w x y z", o)),
            (std::vector<std::string>{"[CLS]", "a", "b", "c", "[SEP]", "w", "x", "[SEP]"}));
  o.truncation_side = TruncationSide::Left;
  EXPECT_EQ(tokens_of(t.encode_pair("a b c", "w x y z", o)),
            (std::vector<std::string>{"[CLS]", "a", "b", "c", "[SEP]", "y", "z", "[SEP]"}));
  EncodeOptions l;
  l.max_length = 4;
  l.truncation = Truncation::LongestFirst;
  l.truncation_side = TruncationSide::Left;
  EXPECT_EQ(tokens_of(t.encode("a b c d e", l)), (std::vector<std::string>{"[CLS]", "d", "e", "[SEP]"}));
  // max_length alone activates longest_first (transformers' backward compatibility).
  EncodeOptions m;
  m.max_length = 4;
  EXPECT_EQ(tokens_of(t.encode("a b c d e", m)), (std::vector<std::string>{"[CLS]", "a", "b", "[SEP]"}));
  // Offsets survive truncation.
  Encoding e = t.encode("a b c d e", m);
  EXPECT_EQ(e.offsets[2], (std::pair<int64_t, int64_t>{2, 3}));
}

TEST(Padding, MaxLengthLongestAndBatches) {
  const Tokenizer& t = uncased();
  EncodeOptions o;
  o.padding = Padding::MaxLength;
  o.max_length = 6;
  Encoding e = t.encode("hi", o);
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{101, 7632, 102, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<int64_t>{1, 1, 1, 0, 0, 0}));
  EXPECT_EQ(e.token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.sequence_ids, (std::vector<int>{-1, 0, -1, -1, -1, -1}));
  EXPECT_EQ(e.tokens[5], "[PAD]");
  // padding without max_length: model_max_length (512).
  EncodeOptions p;
  p.padding = Padding::MaxLength;
  EXPECT_EQ(t.encode("hi", p).size(), 512u);
  // Batches: longest pads to the batch's longest; identical whatever the thread count.
  std::vector<std::string> texts;
  for (int i = 0; i < 200; ++i) texts.push_back(std::string(static_cast<size_t>(i % 17), 'x') + " word " + std::to_string(i));
  EncodeOptions b;
  b.padding = Padding::Longest;
  auto one = t.encode_batch(texts, b, 1);
  auto four = t.encode_batch(texts, b, 4);
  ASSERT_EQ(one.size(), texts.size());
  size_t longest = 0;
  for (const auto& s : texts) longest = std::max(longest, t.encode(s).size());
  for (size_t i = 0; i < texts.size(); ++i) {
    EXPECT_EQ(one[i].input_ids, four[i].input_ids);
    EXPECT_EQ(one[i].offsets, four[i].offsets);
    EXPECT_EQ(one[i].size(), longest);
    Encoding single = t.encode(texts[i]);
    EXPECT_TRUE(std::equal(single.input_ids.begin(), single.input_ids.end(), one[i].input_ids.begin()));
  }
  std::vector<std::pair<std::string, std::string>> pairs{{"a b", "c"}, {"d", "e f g h"}};
  auto pb = t.encode_pair_batch(pairs, b, 2);
  EXPECT_EQ(pb[0].size(), 8u);
  EXPECT_EQ(pb[0].token_type_ids, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 0, 0}));
}

TEST(Decode, LikeBertTokenizer) {
  const Tokenizer& t = uncased();
  Encoding e = t.encode("Hello, world! don't");
  // tokens [CLS] hello , world ! don ' t [SEP] -> joined, then clean_up_tokenization.
  EXPECT_EQ(t.decode(e.input_ids), "[CLS] hello, world! don't [SEP]");
  EXPECT_EQ(t.decode(e.input_ids, true), "hello, world! don't");
  EXPECT_EQ(t.decode(e.input_ids, true, false), "hello , world ! don ' t");
  std::vector<std::string> pieces{"un", "##aff", "##able"};
  EXPECT_EQ(t.convert_tokens_to_string(pieces), "unaffable");
  std::vector<int64_t> ids{101, 999999, -5, 102};
  EXPECT_EQ(t.convert_ids_to_tokens(ids), (std::vector<std::string>{"[CLS]", "[UNK]", "[UNK]", "[SEP]"}));
  EXPECT_EQ(t.token_to_id("hello"), 7592);
  EXPECT_EQ(t.token_to_id("no-such-token"), 100);
  EXPECT_FALSE(t.find_token("no-such-token").has_value());
  EXPECT_TRUE(t.is_special_id(101));
  EXPECT_FALSE(t.is_special_id(7592));
  EXPECT_EQ(t.mask_token(), "[MASK]");
  EXPECT_EQ(t.model_max_length(), 512);
}

TEST(SpecialTokens, TypedInTextStaySingleAndAreNotLowercased) {
  const Tokenizer& t = uncased();
  // "[MASK]" is split out before lowercasing; "[mask]" is ordinary text.
  EXPECT_EQ(toks(t, "the [MASK] is here"), (std::vector<std::string>{"the", "[MASK]", "is", "here"}));
  EXPECT_EQ(toks(t, "x[SEP]y"), (std::vector<std::string>{"x", "[SEP]", "y"}));
  EXPECT_EQ(toks(t, "[mask]"), (std::vector<std::string>{"[", "mask", "]"}));
  Encoding e = t.encode("a [MASK]");
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{101, 1037, 103, 102}));
  EXPECT_EQ(e.offsets[2], (std::pair<int64_t, int64_t>{2, 8}));
}

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("bertcpp_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void write(const fs::path& p, const std::string& s) {
  std::ofstream(p, std::ios::binary) << s;
}

TEST(Loading, AddedTokensAndSpecialTokensMap) {
  fs::path d = temp_dir("added");
  fs::copy_file(kUncased / "vocab.txt", d / "vocab.txt");
  write(d / "tokenizer_config.json", R"({"do_lower_case": true, "model_max_length": 128})");
  // Non-special added tokens are lowercased when do_lower_case (PreTrainedTokenizer._add_tokens).
  write(d / "added_tokens.json", R"({"NewTok": 30522, "<ent>": 30523})");
  write(d / "special_tokens_map.json", R"({"additional_special_tokens": ["<ent>"]})");
  Tokenizer t = Tokenizer::from_dir(d);
  EXPECT_EQ(t.vocab_size(), 30524u);
  EXPECT_EQ(t.model_max_length(), 128);
  EXPECT_EQ(toks(t, "Hello NEWTOK world <ent>x"), (std::vector<std::string>{"hello", "newtok", "world", "<ent>", "x"}));
  Encoding e = t.encode("a NewTok <ent>");
  EXPECT_EQ(e.input_ids, (std::vector<int64_t>{101, 1037, 30522, 30523, 102}));
  EXPECT_TRUE(t.is_special_id(30523));
  EXPECT_FALSE(t.is_special_id(30522));
  EXPECT_EQ(t.decode(e.input_ids, true), "a newtok");
  // Non-consecutive ids are rejected like transformers does.
  write(d / "added_tokens.json", R"({"foo": 40000})");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  fs::remove_all(d);
}

// Thousands of added tokens (ASCII and CJK first characters) and additional special tokens: each
// is split out whole with its own id (loading them was quadratic; see docs/tokenizer.md).
TEST(Loading, ManyAddedTokensEachKeepItsId) {
  fs::path d = temp_dir("many_added");
  fs::copy_file(kUncased / "vocab.txt", d / "vocab.txt");
  constexpr int kAdded = 8192, kSpecial = 300;
  auto added_name = [](int i) {
    // Half start with a CJK ideograph (U+4E00), half with ASCII.
    std::string s = i % 2 ? "tok" : "\xe4\xb8\x80q";
    s.append(std::to_string(i));
    if (i % 2) s.push_back('x');
    return s;
  };
  std::string added = "{";
  for (int i = 0; i < kAdded; ++i) added.append(i ? "," : "").append(nlohmann::json(added_name(i)).dump()).append(":").append(std::to_string(30522 + i));
  write(d / "added_tokens.json", added + "}");
  std::string specials = R"({"additional_special_tokens": [)";
  for (int i = 0; i < kSpecial; ++i) specials.append(i ? ",\"<S" : "\"<S").append(std::to_string(i)).append(">\"");
  write(d / "special_tokens_map.json", specials + "]}");
  Tokenizer t = Tokenizer::from_dir(d, slow_options());
  EXPECT_EQ(t.vocab_size(), static_cast<size_t>(30522 + kAdded + kSpecial));
  for (int i : {0, 1, 2, 777, 4097, kAdded - 2, kAdded - 1}) {
    EncodeOptions o;
    o.add_special_tokens = false;
    EXPECT_EQ(t.encode(std::string("a ").append(added_name(i)).append(" b"), o).input_ids, (std::vector<int64_t>{1037, 30522 + i, 1038})) << i;
  }
  // Special tokens come after the added ones, in their order; they are special, added ones are not.
  for (int i : {0, 1, 150, kSpecial - 1}) {
    const std::string s = std::string("<S").append(std::to_string(i)).append(">");
    const int64_t id = t.token_to_id(s);
    EXPECT_EQ(id, 30522 + kAdded + i) << s;
    EXPECT_TRUE(t.is_special_id(id)) << s;
    EXPECT_EQ(toks(t, std::string("x").append(s).append("y")), (std::vector<std::string>{"x", s, "y"}));
  }
  EXPECT_FALSE(t.is_special_id(30522));
  fs::remove_all(d);
}

TEST(Loading, OptionsOverrideConfigAndNeverSplit) {
  TokenizerOptions o = slow_options();
  o.do_lower_case = false;
  Tokenizer t = Tokenizer::from_dir(kUncased, o);
  EXPECT_EQ(toks(t, "Hello")[0], "[UNK]");  // uncased vocab has no "Hello"
  TokenizerOptions n = slow_options();
  n.never_split = std::vector<std::string>{"don't"};
  Tokenizer u = Tokenizer::from_dir(kUncased, n);
  // BertTokenizer._tokenize appends a never_split token as is; its id is then the unknown id.
  EXPECT_EQ(toks(u, "don't stop"), (std::vector<std::string>{"don't", "stop"}));
  EXPECT_EQ(u.encode("don't stop").input_ids, (std::vector<int64_t>{101, 100, 2644, 102}));
  EXPECT_EQ(toks(uncased(), "don't stop"), (std::vector<std::string>{"don", "'", "t", "stop"}));
}

TEST(Loading, ErrorsAreCleanNotCrashes) {
  EXPECT_THROW(Tokenizer::from_dir(kData / "no-such-dir"), Error);
  fs::path d = temp_dir("bad");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);  // no vocab
  write(d / "tokenizer.json", "{\"model\": {\"type\": \"BPE\", \"vocab\": {}}}");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  write(d / "tokenizer.json", "{not json");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  write(d / "tokenizer.json", R"({"model": {"vocab": {"a": 99999999999}}})");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  fs::remove(d / "tokenizer.json");
  write(d / "vocab.txt", std::string("[PAD]\n\xff\xfe\n", 9));
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  write(d / "vocab.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n");
  write(d / "tokenizer_config.json", R"({"do_lower_case": "yes"})");
  EXPECT_THROW(Tokenizer::from_dir(d), Error);
  fs::remove(d / "tokenizer_config.json");
  Tokenizer t = Tokenizer::from_dir(d);
  EXPECT_EQ(t.encode("hello world").input_ids, (std::vector<int64_t>{2, 5, 1, 3}));
  EXPECT_EQ(t.model_max_length(), INT64_MAX);  // VERY_LARGE_INTEGER: no config value
  EncodeOptions o;
  o.truncation = Truncation::LongestFirst;  // no max_length anywhere: transformers does not truncate
  EXPECT_EQ(t.encode("hello hello hello", o).size(), 5u);
  EncodeOptions neg;
  neg.max_length = -1;
  EXPECT_THROW(t.encode("x", neg), Error);
  Tokenizer empty;
  EXPECT_THROW(empty.encode("x"), Error);
  fs::remove_all(d);
}

TEST(Loading, CrlfVocabLikePythonUniversalNewlines) {
  fs::path d = temp_dir("crlf");
  write(d / "vocab.txt", "[PAD]\r\n[UNK]\r[CLS]\n[SEP]\r\n[MASK]\r\nhello");
  Tokenizer t = Tokenizer::from_vocab(d / "vocab.txt");
  EXPECT_EQ(t.vocab_size(), 6u);
  EXPECT_EQ(t.token_to_id("hello"), 5);
  EXPECT_EQ(t.cls_token_id(), 2);
  fs::remove_all(d);
}

}  // namespace
