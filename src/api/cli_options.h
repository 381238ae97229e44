// CLI11 options shared by the model-running CLI commands. Header-only and included only by
// src/cli/*.cpp (which link CLI11), so the api library itself does not depend on CLI11.
#pragma once
#include <CLI/CLI.hpp>
#include <string>

#include "api/cli_support.h"

namespace bertcpp::api::cli {

struct ModelFlags {
  std::string model;
  int threads = 0;
  std::string dtype = "f32";
};

inline void add_model_flags(CLI::App& app, ModelFlags& f) {
  app.add_option("-m,--model", f.model,
                 "Model: a Hugging Face id (e.g. BAAI/bge-small-en-v1.5) or a local folder with config.json, "
                 "weights and vocab.txt/tokenizer.json. Default: $BERTCPP_MODEL");
  app.add_option("-t,--threads", f.threads, "Threads (0 = all cores, at most " + std::to_string(kMaxThreads) + ")")
      ->default_val(0)
      ->check(CLI::Range(0, kMaxThreads));
  app.add_option("--dtype", f.dtype, "Compute type: f32 (reference parity), bf16 or int8")
      ->default_val("f32")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
}

// --input-format for commands reading texts from stdin.
inline void add_input_format_flag(CLI::App& app, std::string& format) {
  app.add_option("--input-format", format,
                 "stdin: text (one text per line, blank lines included) or jsonl (one {\"text\": ...} per line)")
      ->default_val("text")
      ->check(CLI::IsMember({"text", "jsonl"}));
}

inline Model load_model(const ModelFlags& f) { return load_model(f.model, f.threads, f.dtype); }

}  // namespace bertcpp::api::cli
