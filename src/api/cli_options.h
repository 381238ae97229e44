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
  app.add_option("-t,--threads", f.threads, "Threads (0 = all cores)")->default_val(0);
  app.add_option("--dtype", f.dtype, "Compute type: f32 (reference parity), bf16 or int8")
      ->default_val("f32")
      ->check(CLI::IsMember({"f32", "bf16", "int8"}));
}

inline Model load_model(const ModelFlags& f) { return load_model(f.model, f.threads, f.dtype); }

}  // namespace bertcpp::api::cli
