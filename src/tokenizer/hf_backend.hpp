// Entry points of the fast backend used by tokenizer.cpp (which owns Tokenizer's public methods).
#pragma once
#include <functional>
#include <span>
#include <string_view>
#include <vector>

#include "bertcpp/tokenizer.hpp"
#include "tokenizer/impl.hpp"
#include "tokenizer/sp_model.hpp"

namespace bertcpp::hf {

// Encodes texts (and pairs when `second` is non-empty, same length) as the tokenizers library does
// with the truncation/padding EncodeOptions map to. `batch`: Padding::Longest pads to the batch's
// longest. `parallel(n, f)` runs f(0..n-1).
std::vector<Encoding> encode_fast(const Tokenizer::Impl& t, std::span<const std::string_view> first,
                                  std::span<const std::string_view> second, const EncodeOptions& o, bool batch,
                                  const std::function<void(size_t, const std::function<void(size_t)>&)>& parallel);
// After t.fast and t.cfg are set: model_max, special token ids and strings.
void finish_fast(Tokenizer::Impl& t);
// Loads tokenizer.json into t.fast.
void load_fast(Tokenizer::Impl& t, const std::string& tokenizer_json);
// Loads a SentencePiece model into t.fast as transformers' AutoTokenizer converts it for `family`.
void load_sentencepiece(Tokenizer::Impl& t, const std::string& model_file, sp::Family family, const sp::Options& o);
std::string decode_fast(const Tokenizer::Impl& t, std::span<const int64_t> ids, bool skip_special);
std::vector<std::string> ids_to_tokens_fast(const Tokenizer::Impl& t, std::span<const int64_t> ids);
std::string tokens_to_string_fast(const Tokenizer::Impl& t, std::span<const std::string> tokens);
std::optional<int64_t> find_token_fast(const Tokenizer::Impl& t, std::string_view token);
size_t vocab_size_fast(const Tokenizer::Impl& t);

}  // namespace bertcpp::hf
