// bertcpp::Tokenizer: two implementations behind one interface. The slow Hugging Face BertTokenizer
// with exact parity (vocab.txt folders), plus character offsets like the fast tokenizers'
// return_offsets_mapping; and the `tokenizers` (Rust) pipeline read from tokenizer.json, exact
// against that library (what AutoTokenizer / BertTokenizerFast give).
#pragma once
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bertcpp {

// Overrides of what tokenizer_config.json / tokenizer.json say. Unset = take the file's value
// (or transformers' default when the file is silent).
// Which implementation from_dir loads.
enum class TokenizerBackend {
  Auto,  // tokenizer.json when the folder has one (the fast tokenizers), else the slow BertTokenizer
  Slow,  // transformers' BertTokenizer over vocab.txt (or a WordPiece tokenizer.json read as one)
  Fast,  // the tokenizers pipeline from tokenizer.json
};

struct TokenizerOptions {
  // The BERT options below apply to the slow backend only (the fast one takes tokenizer.json as is,
  // model_max_length excepted).
  std::optional<bool> do_lower_case;
  // transformers' strip_accents is tri-state: unset (None) follows do_lower_case.
  std::optional<bool> strip_accents;
  std::optional<bool> tokenize_chinese_chars;
  std::optional<std::vector<std::string>> never_split;
  std::optional<int64_t> model_max_length;
  TokenizerBackend backend = TokenizerBackend::Auto;
};

enum class Truncation { None, LongestFirst, OnlyFirst, OnlySecond };
enum class Padding { None, Longest, MaxLength };
enum class TruncationSide { Right, Left };

struct EncodeOptions {
  bool add_special_tokens = true;
  Truncation truncation = Truncation::None;
  TruncationSide truncation_side = TruncationSide::Right;
  // Used by truncation and by Padding::MaxLength; unset = the tokenizer's model_max_length.
  std::optional<int64_t> max_length;
  Padding padding = Padding::None;
  // Overlap of consecutive overflowing windows (fast backend: Encoding::overflowing).
  int64_t stride = 0;
  // Pad on this side (unset = the tokenizer's padding_side from tokenizer_config.json).
  std::optional<TruncationSide> padding_side;
};

struct Encoding {
  std::vector<int64_t> input_ids;
  std::vector<int64_t> token_type_ids;
  std::vector<int64_t> attention_mask;
  std::vector<std::string> tokens;
  // Per token, [begin, end) into the ORIGINAL text of its sequence: in Unicode code points
  // (what Python's str indexes, = transformers' return_offsets_mapping) and in UTF-8 bytes.
  // (0, 0) for special and padding tokens.
  std::vector<std::pair<int64_t, int64_t>> offsets;
  std::vector<std::pair<int64_t, int64_t>> byte_offsets;
  // Per token: 0 (first text), 1 (second text), -1 (special or padding).
  std::vector<int> sequence_ids;
  // Fast backend only (empty for the slow one): per token the index of the pre-tokenized word it
  // came from (-1 for special and padding tokens), 1 for special/padding tokens else 0, and the
  // windows truncation cut off (with `stride` tokens of overlap), as the tokenizers library gives.
  std::vector<int64_t> word_ids;
  std::vector<int64_t> special_tokens_mask;
  std::vector<Encoding> overflowing;
  size_t size() const { return input_ids.size(); }
};

class Tokenizer {
 public:
  // A model id ("bert-base-uncased", "org/name") or a local folder; ids are resolved through the
  // Hugging Face cache and downloaded when missing (see docs/hub.md). Defined in the api layer.
  static Tokenizer from_pretrained(const std::string& id_or_path, const TokenizerOptions& options = {});
  // A local folder: tokenizer.json (fast backend unless options.backend says Slow), or vocab.txt +
  // tokenizer_config.json (+ special_tokens_map.json, added_tokens.json).
  static Tokenizer from_dir(const std::filesystem::path& dir, const TokenizerOptions& options = {});
  // A bare vocab.txt with the given options (transformers' defaults otherwise).
  static Tokenizer from_vocab(const std::filesystem::path& vocab_txt, const TokenizerOptions& options = {});

  // = transformers' tokenizer.tokenize(text): WordPiece tokens, no special tokens.
  std::vector<std::string> tokenize(std::string_view text) const;
  Encoding encode(std::string_view text, const EncodeOptions& options = {}) const;
  Encoding encode_pair(std::string_view text, std::string_view text_pair, const EncodeOptions& options = {}) const;
  // Batches: Padding::Longest pads to the longest encoding of the batch. Uses up to `threads`
  // threads (0 = all cores); results are identical whatever the thread count.
  std::vector<Encoding> encode_batch(std::span<const std::string> texts, const EncodeOptions& options = {},
                                     int threads = 0) const;
  std::vector<Encoding> encode_pair_batch(std::span<const std::pair<std::string, std::string>> pairs,
                                          const EncodeOptions& options = {}, int threads = 0) const;

  std::string decode(std::span<const int64_t> ids, bool skip_special_tokens = false,
                     bool clean_up_tokenization_spaces = true) const;
  std::vector<std::string> convert_ids_to_tokens(std::span<const int64_t> ids) const;
  std::string convert_tokens_to_string(std::span<const std::string> tokens) const;
  // The id of a token, or the unknown token's id.
  int64_t token_to_id(std::string_view token) const;
  std::optional<int64_t> find_token(std::string_view token) const;

  size_t vocab_size() const;  // including added tokens
  int64_t model_max_length() const;
  int64_t cls_token_id() const;
  int64_t sep_token_id() const;
  int64_t pad_token_id() const;
  int64_t mask_token_id() const;
  int64_t unk_token_id() const;
  const std::string& mask_token() const;
  bool is_special_id(int64_t id) const;
  // True when this tokenizer runs the tokenizers (Rust) pipeline of a tokenizer.json.
  bool is_fast() const;
  // tokenizer_config.json's padding_side (what padding uses when EncodeOptions::padding_side is unset).
  TruncationSide padding_side() const;
  // The tokenizer.json (tokenizers' format) converted from a SentencePiece-only folder's model, as
  // transformers' save_pretrained writes it; empty when the tokenizer was not converted.
  const std::string& converted_tokenizer_json() const;

  struct Impl;

 private:
  std::shared_ptr<const Impl> impl_;
};

}  // namespace bertcpp
