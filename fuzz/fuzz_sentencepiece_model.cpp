// SentencePiece model files (sentencepiece.bpe.model in an XLM-R-style folder, no tokenizer.json):
// the ModelProto reader, the conversion to the tokenizers pipeline, then encode / pair / decode.
#include <filesystem>
#include <string>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "fuzz_util.h"

namespace fs = std::filesystem;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path dir = bertcpp::fuzz::scratch_dir() / "spm";
  fs::remove_all(dir);
  fs::create_directories(dir);
  bertcpp::fuzz::write_file("spm/sentencepiece.bpe.model", data, size);
  const std::string cfg = R"({"tokenizer_class": "XLMRobertaTokenizer"})";
  bertcpp::fuzz::write_file("spm/tokenizer_config.json", reinterpret_cast<const uint8_t*>(cfg.data()), cfg.size());
  bertcpp::fuzz::exercise_tokenizer(dir);
  return 0;
}
