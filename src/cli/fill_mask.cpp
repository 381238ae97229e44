// bertcpp fill-mask: the most likely tokens for the mask of a text (masked-LM models).
#include <memory>

#include "api/cli_options.h"
#include "cli/command.h"

namespace bertcpp::cli {
namespace {

struct FillMaskArgs {
  api::cli::ModelFlags model;
  int top_k = 5;
  std::string text;
};

int run_fill_mask(const FillMaskArgs& a) {
  if (a.top_k < 1) throw invalid_argument("--top-k must be >= 1, got " + std::to_string(a.top_k));
  const Model model = api::cli::load_model(a.model);
  const auto candidates = model.fill_mask(a.text, a.top_k);
  std::string s = "[\n";
  for (size_t i = 0; i < candidates.size(); ++i) {
    const auto& c = candidates[i];
    s += "  {\"score\":";
    api::cli::append_json_float(s, c.score);
    s += ",\"token\":" + std::to_string(c.token_id) + ",\"token_str\":" + api::cli::json_string(c.token) +
         ",\"sequence\":" + api::cli::json_string(c.sequence) + "}" + (i + 1 < candidates.size() ? "," : "") + "\n";
  }
  s += "]\n";
  api::cli::write_output("", s);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<FillMaskArgs>();
  app.footer(
      "Prints a JSON array, best first, with the keys of transformers' fill-mask pipeline:\n"
      "[{\"score\":0.41,\"token\":3007,\"token_str\":\"capital\",\"sequence\":\"paris is the capital of france.\"}, ...]\n"
      "The model needs a masked-LM head (BertForMaskedLM or BertForPreTraining).\n"
      "Example: bertcpp fill-mask -m bert-base-uncased \"Paris is the [MASK] of France.\"");
  api::cli::add_model_flags(app, a->model);
  app.add_option("-k,--top-k", a->top_k, "Number of candidates")->default_val(5);
  app.add_option("text", a->text, "Text with one mask token (e.g. [MASK])")->required();
  return [a] { return run_fill_mask(*a); };
}

const bool registered = register_command({"fill-mask", "Predict the masked token of a text (masked-LM models)", 30, setup});

}  // namespace
}  // namespace bertcpp::cli
