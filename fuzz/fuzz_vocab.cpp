// vocab.txt: Tokenizer::from_vocab on arbitrary bytes, then one encode/decode.
#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = bertcpp::fuzz::write_file("vocab.txt", data, size);
  try {
    const bertcpp::Tokenizer tok = bertcpp::Tokenizer::from_vocab(path);
    const bertcpp::Encoding e = tok.encode("unaffable Héllo [UNK] text");
    (void)tok.decode(e.input_ids, true);
  } catch (const bertcpp::Error&) {
  }
  return 0;
}
