// Internal state of bertcpp::Tokenizer (src/tokenizer only).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "bertcpp/tokenizer.hpp"

namespace bertcpp::hf {
struct Pipeline;
}

namespace bertcpp::tok {

// Open-addressing hash map from byte strings (views into an arena owned by the map) to ids.
class VocabMap {
 public:
  void reserve(size_t n);
  // Later insertions of the same key overwrite the id (Python dict semantics).
  void insert(std::string_view key, int64_t id);  // id < 2^31
  int64_t find(std::string_view key) const;  // -1 when absent
  size_t size() const { return count_; }
  size_t max_key_bytes() const { return max_key_; }
  void clear();  // keeps the slots' capacity

 private:
  struct Slot {
    uint64_t prefix = 0;  // first 8 bytes of the key, so short keys never touch the arena
    uint32_t hash = 0;    // low 32 bits of the hash
    uint32_t offset = 0;
    uint32_t length = 0;
    int32_t id = -1;      // -1 = empty
  };
  static uint64_t prefix_of(const char* p, size_t n);
  bool match(const Slot& s, uint64_t h, std::string_view key) const;
  static uint64_t hash_of(std::string_view s);
  static bool same(const char* a, const char* b, size_t n) {
    for (size_t i = 0; i < n; ++i)
      if (a[i] != b[i]) return false;
    return true;
  }
  void grow();
  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
  size_t max_key_ = 0;
};

// Python's transformers.tokenization_utils.Trie, on code points.
class Trie {
 public:
  Trie() { nodes_.emplace_back(); }
  void add(std::u32string_view word);
  bool empty() const { return nodes_[0].next.empty(); }
  bool is_first_char(char32_t c) const {
    if (c < 128) return root_ascii_[c];
    return root_nonascii_ && child(0, c) >= 0;
  }
  // Cut points exactly as Trie.split + cut_text: returns [begin, end) ranges covering text.
  void split(const char32_t* text, size_t n, std::vector<std::pair<size_t, size_t>>& out) const;

 private:
  struct Node {
    std::vector<std::pair<char32_t, int>> next;
    bool terminal = false;
  };
  int child(int node, char32_t c) const {
    for (const auto& [k, v] : nodes_[node].next)
      if (k == c) return v;
    return -1;
  }
  std::vector<Node> nodes_;
  bool root_ascii_[128] = {};
  bool root_nonascii_ = false;
};

struct SpecialToken {
  std::string content;
  bool added_token = false;  // given as an AddedToken (dict) rather than a plain string
  bool lstrip = false;
  bool rstrip = false;
};

// A list of strings matched against code-point spans (special / never-split / added tokens), hashed
// so that adding and finding stay O(length) however many there are (8k added tokens are common).
struct U32Set {
  std::vector<std::u32string> items;
  std::vector<std::string> utf8;
  void add(std::string_view s);
  // Index of the item equal to [p, p+n), or -1.
  int find(const char32_t* p, size_t n) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::u32string_view v) const { return std::hash<std::u32string_view>()(v); }
  };
  std::unordered_map<std::u32string, int, Hash, std::equal_to<>> index_;
  bool first_ascii_[128] = {};
  bool first_other_ = false;  // some item starts with a non-ASCII code point
};

// Builds the property table and the pipeline's cached pointers (idempotent, thread-safe).
void init_pipeline_tables();

struct Piece {
  int64_t id;
  std::string_view token;
  int64_t begin;  // code point offsets into the decoded original text
  int64_t end;
};

struct Config {
  bool do_lower_case = true;
  std::optional<bool> strip_accents;
  bool tokenize_chinese_chars = true;
  bool do_basic_tokenize = true;
  bool clean_text = true;
  std::vector<std::string> never_split;
  int64_t max_input_chars_per_word = 100;
  std::string continuing_subword_prefix = "##";
  std::optional<int64_t> model_max_length;  // unset = VERY_LARGE_INTEGER
  bool padding_left = false;
  bool truncation_left = false;
  // special tokens, by attribute (bos, eos, unk, sep, pad, cls, mask)
  std::map<std::string, SpecialToken> specials;
  std::vector<SpecialToken> additional_special_tokens;
};

}  // namespace bertcpp::tok

namespace bertcpp {

struct Tokenizer::Impl {
  tok::Config cfg;
  // Set for the fast backend (tokenizer.json through the tokenizers pipeline); the fields below
  // that it uses: cfg (tokenizer_config.json), model_max*, the special token ids and strings.
  std::shared_ptr<const hf::Pipeline> fast;
  std::string converted_json;  // the tokenizer.json built from a SentencePiece model (save_pretrained writes it)
  bool fast_clean_up = false;  // tokenizer_config.json clean_up_tokenization_spaces
  bool strip_accents_on = true;  // effective: lower ? strip != false : strip == true
  bool model_max_unbounded = true;
  int64_t model_max = INT64_MAX;

  // vocab.txt
  tok::VocabMap vocab;       // token -> id
  tok::VocabMap cont_vocab;  // token without the continuing prefix -> id (tokens that have it)
  std::vector<std::string> id_to_token;  // by id; empty + !has_id for ids not in ids_to_tokens
  std::vector<bool> has_id;
  size_t vocab_unique = 0;

  // added tokens (added_tokens.json / tokenizer.json / special tokens missing from the vocab)
  std::unordered_map<std::string, int64_t> added_encoder;
  std::map<int64_t, std::string> added_decoder;

  std::vector<std::string> all_special_tokens;
  std::vector<tok::SpecialToken> all_special_extended;
  std::vector<int64_t> all_special_ids;
  std::set<std::string> unique_no_split;  // sorted (Python sorts str by code point = UTF-8 byte order)

  // Matching structures.
  std::vector<std::u32string> protect_patterns;  // regex alternation order (do_lower_case pass)
  std::vector<char32_t> protect_first;
  bool protect_ascii[128] = {};
  bool protect_nonascii = false;
  tok::Trie trie;
  tok::U32Set no_split;              // unique_no_split_tokens
  std::vector<std::pair<bool, bool>> no_split_strip;  // (strip left neighbour, strip right neighbour)
  tok::U32Set never_split_all;       // user never_split + all special tokens
  tok::U32Set never_split_user;      // BasicTokenizer.never_split
  std::vector<int64_t> never_split_user_ids;
  std::vector<int64_t> no_split_ids;

  int64_t unk_id = 0;
  std::string unk_token = "[UNK]";
  std::optional<int64_t> cls_id, sep_id, pad_id, mask_id;
  std::string cls_token, sep_token, pad_token, mask_token;

  // Building.
  void add_tokens(const std::vector<std::string>& tokens, bool special);
  void finalize();
  int64_t convert_token(std::string_view token) const;
  std::optional<int64_t> find_token(std::string_view token) const;
  std::string id_to_token_str(int64_t id) const;

  // Tokenizing. Pieces get code point offsets; byte_pos (if given) receives the byte position of
  // each code point of the decoded text plus a final entry.
  void run(std::string_view text, std::vector<tok::Piece>& out, std::vector<uint32_t>* byte_pos) const;
};

}  // namespace bertcpp
