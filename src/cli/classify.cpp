// bertcpp classify: label scores of texts (sequence-classification models).
#include <iostream>
#include <memory>

#include "api/cli_options.h"
#include "cli/command.h"

namespace bertcpp::cli {
namespace {

struct ClassifyArgs {
  api::cli::ModelFlags model;
  std::string input_format = "text";
  std::vector<std::string> texts;
  std::string pair;
  int top_k = 0;
};

int run_classify(ClassifyArgs& a) {
  if (a.top_k < 0) throw invalid_argument("--top-k must be >= 0, got " + std::to_string(a.top_k));
  (void)api::cli::model_or_default(a.model.model);  // "no model" before waiting on stdin
  if (a.texts.empty()) {
    a.texts = api::cli::read_texts(std::cin, "stdin", api::cli::parse_input_format(a.input_format));
    if (a.texts.empty()) throw invalid_argument("no texts: pass TEXT arguments or lines on stdin");
  }
  const Model model = api::cli::load_model(a.model);
  std::optional<std::string> pair;
  if (!a.pair.empty()) pair = a.pair;
  std::string s;
  const bool many = a.texts.size() > 1;
  if (many) s += "[\n";
  for (size_t t = 0; t < a.texts.size(); ++t) {
    auto scores = model.classify(a.texts[t], pair);
    if (a.top_k > 0 && scores.size() > static_cast<size_t>(a.top_k)) scores.resize(static_cast<size_t>(a.top_k));
    s += many ? "  [" : "[";
    for (size_t i = 0; i < scores.size(); ++i) {
      if (i) s += ',';
      s += "{\"label\":";
      s += api::cli::json_string(scores[i].label);
      s += ",\"score\":";
      api::cli::append_json_float(s, scores[i].score);
      s += "}";
    }
    s += "]";
    s += many && t + 1 < a.texts.size() ? ",\n" : "\n";
  }
  if (many) s += "]\n";
  api::cli::write_output("", s);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<ClassifyArgs>();
  app.footer(
      "Prints, per text, every label with its probability, best first, as transformers'\n"
      "text-classification pipeline (softmax; sigmoid for single-label or multi-label models):\n"
      "[{\"label\":\"positive\",\"score\":0.93},{\"label\":\"negative\",\"score\":0.07}]\n"
      "Several texts give an array of such arrays. --pair classifies (TEXT, PAIR) pairs (NLI, cross-encoders).\n"
      "Example: bertcpp classify -m ./sst2-model \"I loved it\" \"Terrible.\"");
  api::cli::add_model_flags(app, a->model);
  api::cli::add_input_format_flag(app, a->input_format);
  app.add_option("--pair", a->pair, "Second text of every input pair");
  app.add_option("-k,--top-k", a->top_k, "Only the best K labels (0 = all)")->default_val(0);
  app.add_option("text", a->texts, "Texts to classify (default: read stdin, see --input-format)");
  return [a] { return run_classify(*a); };
}

const bool registered = register_command({"classify", "Classify texts or text pairs (sequence-classification models)", 40, setup});

}  // namespace
}  // namespace bertcpp::cli
