// The Hugging Face `tokenizers` pipeline read from tokenizer.json (the fast tokenizers' semantics):
// normalizer -> pre-tokenizer -> model -> post-processor -> decoder, with added tokens split out
// first. Internal to src/tokenizer; bertcpp::Tokenizer dispatches here for tokenizer.json folders.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <tuple>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "bertcpp/tokenizer.hpp"
#include "tokenizer/impl.hpp"

namespace bertcpp::hf {

using json = nlohmann::json;
using Align = std::pair<uint32_t, uint32_t>;  // [begin, end) in code points of the original text

// Code-point properties as the Rust library sees them (hf_unicode.cpp).
inline bool is_rust_whitespace(char32_t c) {  // char::is_whitespace (White_Space)
  if (c < 0x80) return (c >= 9 && c <= 13) || c == 32;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}
bool is_bert_drop(char32_t c);        // removed by BertNormalizer clean_text
bool is_bert_space(char32_t c);       // mapped to ' ' by clean_text
bool is_bert_punct(char32_t c);       // BertPreTokenizer / Punctuation
bool is_mn(char32_t c);               // category Mn (unicode_categories)
bool is_combining_mark(char32_t c);  // removed by StripAccents (unicode-normalization's table)
bool is_chinese(char32_t c);
bool is_numeric(char32_t c);          // char::is_numeric (Nd, Nl, No)
bool is_word_char(char32_t c);        // regex \w (added tokens' single_word)
// \p{L} = 1, \p{N} = 2, \s = 3, else 0, as the library's bundled Oniguruma has them (ByteLevel's pattern).
uint8_t onig_class(char32_t c);
// char::to_lowercase (appends 1..3 code points).
void to_lower(char32_t c, std::u32string& out);
// Full canonical / compatibility decomposition of one code point; false when it is its own.
bool decompose(char32_t c, bool compat, std::u32string& out);
int ccc(char32_t c);

// A NormalizedString in code points: the normalized text and, per normalized code point, the
// span of the original it came from (absolute code point offsets into the whole input).
struct NStr {
  std::u32string s;
  std::vector<Align> al;
  uint32_t shift = 0;  // where this piece starts in the original (alignment of chars added at 0)

  // NormalizedString::transform_range over normalized [a, b): each (char, change) with change
  // 1 = inserted, 0 = replaces one, -N = replaces one and removes N more; `initial` chars removed
  // first.
  void transform(size_t a, size_t b, const std::vector<std::pair<char32_t, int>>& dest, size_t initial);
  void transform_all(const std::vector<std::pair<char32_t, int>>& dest, size_t initial) {
    transform(0, s.size(), dest, initial);
  }
  NStr slice(size_t a, size_t b) const;
  void filter(const std::function<bool(char32_t)>& keep);
  void prepend(std::u32string_view p);
  void append(std::u32string_view p);
  void lrstrip(bool left, bool right);
  // Replaces each [begin, end) match (sorted, disjoint) by `content`.
  void replace(const std::vector<std::pair<size_t, size_t>>& matches, std::u32string_view content);
  void nfd(bool compat);
  void nfc(bool compat);
  void lowercase();
};

// Per-thread scratch buffers keep their capacity between calls up to kScratchKeep elements: a
// huge input's buffers are freed, not kept by every thread.
constexpr size_t kScratchKeep = size_t(1) << 16;
template <class V>
void trim_scratch(V& v) {
  if (v.capacity() > kScratchKeep) V().swap(v);
}

// This thread's spare NormalizedStrings: a slice takes one (its buffers kept), encode_sequence gives its
// pieces back, so pre-tokenizing allocates nothing once warm. Bounded in count and size.
NStr spare_nstr();
void recycle(NStr&& n);

// A regex (Oniguruma, Ruby syntax, UTF-8), matched over code points.
class Regex {
 public:
  explicit Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Non-overlapping matches, [begin, end) in code points of `text`.
  void find_all(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  void* re_ = nullptr;
};

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Tok {
  int64_t id;
  std::string value;
  uint32_t b, e;  // byte offsets into the UTF-8 of the word given to the model
};

struct Split {
  NStr n;
  bool done = false;  // has tokens (an added token)
  std::vector<Tok> toks;
};

// (begin, end, is_match) covering the text; then the split behavior, whose non-empty pieces are
// appended to `out`.
using Matches = std::vector<std::tuple<size_t, size_t, bool>>;
void cover(const std::vector<std::pair<size_t, size_t>>& found, size_t n, Matches& m);
void split_by(const NStr& n, const Matches& m, SplitBehavior b, std::vector<Split>& out);

struct Normalizer {
  virtual ~Normalizer() = default;
  virtual void normalize(NStr& n) const = 0;
};
struct PreTokenizer {
  virtual ~PreTokenizer() = default;
  virtual void pre_tokenize(std::vector<Split>& splits) const = 0;
};
struct Model {
  virtual ~Model() = default;
  virtual void tokenize(std::string_view word, std::vector<Tok>& out) const = 0;
  virtual std::optional<int64_t> token_to_id(std::string_view t) const = 0;
  virtual std::optional<std::string> id_to_token(int64_t id) const = 0;
  virtual size_t vocab_size() const = 0;
};
struct Decoder {
  virtual ~Decoder() = default;
  virtual void decode_chain(std::vector<std::string>& tokens) const = 0;
};

// The library's Encoding (with overflowing windows), before conversion to bertcpp::Encoding.
struct Enc {
  std::vector<int64_t> ids, type_ids, words, special, attn;
  std::vector<std::string> tokens;
  std::vector<std::pair<int64_t, int64_t>> offsets;
  std::vector<int> seq;  // sequence index per token, -1 for added special tokens
  std::vector<Enc> overflowing;
  size_t size() const { return ids.size(); }
  void reserve(size_t n);
  void truncate(size_t max_len, size_t stride, bool left);
  void append(Enc&& other);    // other's tokens moved to the end (its overflowing windows ignored)
  void merge_with(Enc pair);  // appends (moves) pair's tokens; overflowing windows combined as the library does
  void pad(size_t len, int64_t pad_id, int64_t pad_type, const std::string& pad_tok, bool left);
};

struct PostProcessor {
  virtual ~PostProcessor() = default;
  virtual size_t added_tokens(bool pair) const = 0;
  virtual void process(std::vector<Enc>& encs, bool add_special) const = 0;
};

struct AddedToken {
  std::string content;
  std::u32string pattern;  // what is matched (the normalized content for normalized tokens)
  int64_t id = 0;
  bool special = false, single_word = false, lstrip = false, rstrip = false, normalized = true;
};

// Words already through the model (per thread; see Pipeline::encode_sequence): word -> index
// into `toks`, which is reserved once so pointers into it stay valid until the next clear.
struct WordCache {
  static constexpr size_t kMaxEntries = 16384;
  static constexpr size_t kMaxKeyBytes = 256;
  uint64_t owner = 0;
  tok::VocabMap index;
  std::vector<std::vector<Tok>> toks;
};

struct Pipeline {
  uint64_t cache_id = 0;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Model> model;
  std::unique_ptr<PostProcessor> post;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added;            // by id
  std::unordered_map<std::string, int64_t> added_by_content;
  std::unordered_map<int64_t, size_t> added_by_id;
  std::unordered_set<std::string> special_contents;
  std::vector<size_t> raw_matchers, norm_matchers;  // indices into `added`
  std::vector<char32_t> raw_first, norm_first;      // sorted first code points
  std::array<bool, 128> raw_first_ascii{}, norm_first_ascii{};  // the ASCII ones of each

  static std::shared_ptr<Pipeline> load(const json& j, const std::string& file);

  // One sequence through added tokens, normalizer, pre-tokenizer, model (optionally with the
  // library's early stop at `limit` tokens), into an encoding with char offsets.
  Enc encode_sequence(const std::u32string& text, int type_id, std::optional<std::pair<size_t, bool>> limit) const;
  std::optional<int64_t> token_to_id(std::string_view t) const;
  std::optional<std::string> id_to_token(int64_t id) const;
  std::string decode(std::span<const int64_t> ids, bool skip_special) const;
  size_t vocab_size() const;
};

// Parses one component; throws Unsupported naming the type, InvalidFile naming the field.
std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where);
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where);
std::unique_ptr<Model> make_model(const json& j, const std::string& where);
std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where);
std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& where,
                                                   const std::function<std::optional<int64_t>(const std::string&)>& tok_id);

// JSON field helpers ("where" names the field path for the error).
const json& field(const json& j, const char* key, const std::string& where);
std::string get_str(const json& j, const char* key, const std::string& where);
bool get_bool(const json& j, const char* key, const std::string& where, std::optional<bool> dflt = std::nullopt);
std::u32string to_u32(std::string_view s);
std::string to_utf8(std::u32string_view s);

}  // namespace bertcpp::hf
