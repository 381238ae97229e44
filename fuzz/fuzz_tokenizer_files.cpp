// Tokenizer config files: the input is split at the first two NUL bytes into
// tokenizer_config.json, special_tokens_map.json and added_tokens.json beside bert-base-uncased's
// vocab.txt. Loading, then one encode/decode. (tokenizer.json: fuzz_tokenizer_json.)
#include <filesystem>
#include <string>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path dir = bertcpp::fuzz::scratch_dir() / "tok";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string in(reinterpret_cast<const char*>(data), size);
  auto put = [&](const char* name, const std::string& s) {
    bertcpp::fuzz::write_file("tok/" + std::string(name), reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  fs::copy_file(bertcpp::fuzz::test_data() / "vocabs/bert-base-uncased/vocab.txt", dir / "vocab.txt");
  const size_t a = in.find('\0');
  const size_t b = a == std::string::npos ? a : in.find('\0', a + 1);
  put("tokenizer_config.json", in.substr(0, a));
  if (a != std::string::npos) put("special_tokens_map.json", in.substr(a + 1, b == std::string::npos ? b : b - a - 1));
  if (b != std::string::npos) put("added_tokens.json", in.substr(b + 1));
  try {
    const bertcpp::Tokenizer tok = bertcpp::Tokenizer::from_dir(dir);
    bertcpp::EncodeOptions o;
    o.truncation = bertcpp::Truncation::LongestFirst;
    o.max_length = 16;
    const bertcpp::Encoding e = tok.encode_pair("Héllo [MASK] wörld, 你好!", "second text", o);
    (void)tok.decode(e.input_ids);
  } catch (const bertcpp::Error&) {
  }
  return 0;
}
