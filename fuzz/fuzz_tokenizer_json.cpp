// tokenizer.json (the tokenizers pipeline: normalizer, pre-tokenizer, model, post-processor,
// decoder, added tokens): loading, then encode / pair with truncation and stride / decode.
#include <filesystem>
#include <string>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path dir = bertcpp::fuzz::scratch_dir() / "tokjson";
  fs::remove_all(dir);
  fs::create_directories(dir);
  bertcpp::fuzz::write_file("tokjson/tokenizer.json", data, size);
  bertcpp::fuzz::exercise_tokenizer(dir);
  return 0;
}
