// SentencePiece model files (sentencepiece.bpe.model / spiece.model) read without libsentencepiece:
// a bounded reader of the ModelProto protobuf, and the tokenizer.json that transformers'
// AutoTokenizer builds from it for XLM-R, CamemBERT, ALBERT, DeBERTa-v2, T5 and XLNet (its convert_from_spm + the
// tokenizer class's own pipeline), which the fast backend then runs.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace bertcpp::sp {

// sentencepiece_model.proto, the fields a tokenizer needs (defaults are the proto's).
struct ModelProto {
  struct Piece {
    std::string piece;
    float score = 0;
    int type = 1;  // 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte
  };
  std::vector<Piece> pieces;
  int model_type = 1;  // 1 unigram, 2 bpe, 3 word, 4 char
  bool byte_fallback = false;
  int32_t unk_id = 0, bos_id = 1, eos_id = 2, pad_id = -1;
  std::string unk_piece = "<unk>", bos_piece = "<s>", eos_piece = "</s>", pad_piece = "<pad>";
  std::string normalizer_name;
  std::string precompiled_charsmap;
  bool add_dummy_prefix = true, remove_extra_whitespaces = true, escape_whitespaces = true;
};

// Parses serialized ModelProto bytes; every length and count is checked against the input.
// Throws InvalidFile naming `file`, the field and the byte offset.
ModelProto parse_model(std::string_view bytes, const std::string& file);

enum class Family { XLMRoberta, Camembert, Albert, DebertaV2, T5, XLNet };
// From tokenizer_config.json's tokenizer_class (with or without "Fast") or config.json's model_type.
std::optional<Family> family_of(std::string_view name);

// Tokenizer-class arguments read from tokenizer_config.json / special_tokens_map.json.
struct Options {
  struct Special {
    std::string content;
    bool lstrip = false, rstrip = false;
    bool given = false;  // set by a config file (else the family default)
    bool added_token = false;  // given as an AddedToken object
    bool single_word = false, normalized = false;  // an AddedToken's flags (a string: false, false)
  };
  // bos, eos, unk, sep, pad, cls, mask (transformers' SPECIAL_TOKENS_ATTRIBUTES order)
  Special specials[7];
  bool add_prefix_space = true;
  bool do_lower_case = true;   // ALBERT (DeBERTa-v2: default false)
  bool keep_accents = false;   // ALBERT
  bool split_by_punct = false; // DeBERTa-v2
  int64_t extra_ids = 100;     // T5: <extra_id_0> .. <extra_id_{n-1}> sentinels
  // The folder's extra special tokens (tokenizer_config.json extra_special_tokens, else
  // additional_special_tokens, then special_tokens_map.json extra_special_tokens). When not empty
  // they replace the list the class would add (the model's control / user-defined pieces, T5's sentinels).
  std::vector<Special> additional;
  // tokenizer_config.json's extra_special_tokens as a dict (name -> token): model-specific named
  // special tokens, added after the class's tokens when new.
  std::vector<Special> named_extra;
  // tokenizer_config.json's added_tokens_decoder in id order (the ids themselves are not used: a
  // token already added gets these flags, a piece keeps its id, a new one the next id).
  struct Added {
    std::string content;
    bool lstrip = false, rstrip = false, single_word = false, normalized = false, special = false;
  };
  std::vector<Added> added_decoder;
};
extern const char* const kSpecialAttrs[7];
// The family's default special tokens (XLM-R / CamemBERT <s> </s> <unk> </s> <pad> <s> <mask>,
// ALBERT [CLS] [SEP] <unk> [SEP] <pad> [CLS] [MASK], DeBERTa-v2 [CLS] [SEP] [UNK] [SEP] [PAD] [CLS] [MASK],
// T5 only </s> <unk> <pad>, XLNet <s> </s> <unk> <sep> <pad> <cls> <mask> with mask lstrip).
Options default_options(Family f);

// The tokenizer.json (as the tokenizers library serializes it) of AutoTokenizer on such a folder.
nlohmann::json to_tokenizer_json(const ModelProto& m, Family f, const Options& o, const std::string& file);

}  // namespace bertcpp::sp
