// Encoding arbitrary bytes (invalid UTF-8 included) with the real bert-base-uncased vocabulary:
// tokenize, single, pair (split at the first NUL) with truncation, decode.
#include <string>
#include <string_view>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.h"

namespace {
const bertcpp::Tokenizer& bert() {
  static const bertcpp::Tokenizer t = bertcpp::Tokenizer::from_vocab(bertcpp::fuzz::test_data() / "vocabs/bert-base-uncased/vocab.txt");
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t cut = in.find('\0');
  try {
    const bertcpp::Tokenizer& tok = bert();
    (void)tok.tokenize(in);
    bertcpp::Encoding e = tok.encode(in);
    (void)tok.decode(e.input_ids);
    if (cut != std::string_view::npos) {
      bertcpp::EncodeOptions o;
      o.truncation = bertcpp::Truncation::LongestFirst;
      o.max_length = 12;
      e = tok.encode_pair(in.substr(0, cut), in.substr(cut + 1), o);
      (void)tok.decode(e.input_ids, true);
    }
  } catch (const bertcpp::Error&) {
  }
  return 0;
}
