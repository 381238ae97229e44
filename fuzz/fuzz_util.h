// Shared by the libFuzzer targets: a private scratch folder and writing the input into a file
// there (the readers under test take paths, as they do in real use).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"

namespace bertcpp::fuzz {

inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("bertcpp-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline std::filesystem::path write_file(const std::string& name, const uint8_t* data, size_t size) {
  const auto p = scratch_dir() / name;
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return p;
}

// Loads the tokenizer folder and runs a truncated pair, decode and a special-token-skipping decode
// on fixed texts (Unicode, spaces, a mask token); a bertcpp::Error is the expected refusal.
inline void exercise_tokenizer(const std::filesystem::path& dir) {
  try {
    const Tokenizer tok = Tokenizer::from_dir(dir);
    EncodeOptions o;
    o.truncation = Truncation::LongestFirst;
    o.max_length = 16;
    const Encoding e = tok.encode_pair("Héllo <mask> wörld, 你好! ▁x", "second  text\t", o);
    (void)tok.decode(e.input_ids);
    (void)tok.decode(tok.encode("  ñ \u200d 😀 ").input_ids, true);
  } catch (const Error&) {
  }
}

inline std::filesystem::path test_data() { return std::filesystem::path(BERTCPP_TEST_DATA); }

}  // namespace bertcpp::fuzz
