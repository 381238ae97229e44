// bertcpp rerank: relevance of documents to a query with a cross-encoder.
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <numeric>

#include "api/cli_options.h"
#include "cli/command.h"

namespace bertcpp::cli {
namespace {

struct RerankArgs {
  api::cli::ModelFlags model;
  std::string input_format = "text";
  std::string query;
  std::vector<std::string> documents;
  bool sigmoid = false;
  int top_k = 0;
  bool return_text = false;
};

int run_rerank(RerankArgs& a) {
  if (a.top_k < 0) throw invalid_argument("--top-k must be >= 0, got " + std::to_string(a.top_k));
  (void)api::cli::model_or_default(a.model.model);  // "no model" before waiting on stdin
  if (a.documents.empty()) {
    a.documents = api::cli::read_texts(std::cin, "stdin", api::cli::parse_input_format(a.input_format));
    if (a.documents.empty()) throw invalid_argument("no documents: pass DOC arguments or lines on stdin");
  }
  const Model model = api::cli::load_model(a.model);
  std::vector<float> scores = model.rerank(a.query, a.documents);
  if (a.sigmoid && model.config().labels.size() == 1)
    for (float& x : scores) x = static_cast<float>(1.0 / (1.0 + std::exp(-static_cast<double>(x))));
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return scores[x] > scores[y]; });
  if (a.top_k > 0 && order.size() > static_cast<size_t>(a.top_k)) order.resize(static_cast<size_t>(a.top_k));
  std::string s = "[\n";
  for (size_t r = 0; r < order.size(); ++r) {
    const size_t i = order[r];
    s += "  {\"index\":" + std::to_string(i) + ",\"score\":";
    api::cli::append_json_float(s, scores[i]);
    if (a.return_text) s += ",\"text\":" + api::cli::json_string(a.documents[i]);
    s += std::string("}") + (r + 1 < order.size() ? "," : "") + "\n";
  }
  s += "]\n";
  api::cli::write_output("", s);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<RerankArgs>();
  app.footer(
      "Scores every (QUERY, DOC) pair with a cross-encoder (BertForSequenceClassification) and prints\n"
      "them best first, like TEI's /rerank: [{\"index\":2,\"score\":7.31},{\"index\":0,\"score\":-3.2}]\n"
      "Score: the raw logit for one-label models (--sigmoid maps it to 0..1), else the softmax\n"
      "probability of the last label.\n"
      "Example: bertcpp rerank -m cross-encoder/ms-marco-MiniLM-L-6-v2 -q \"what is panda?\" \"hi\" \"The giant panda is a bear.\"");
  api::cli::add_model_flags(app, a->model);
  api::cli::add_input_format_flag(app, a->input_format);
  app.add_option("-q,--query", a->query, "The query")->required();
  app.add_flag("--sigmoid", a->sigmoid, "Apply a sigmoid to one-label models' logits");
  app.add_flag("--return-text", a->return_text, "Include each document's text");
  app.add_option("-k,--top-k", a->top_k, "Only the best K documents (0 = all)")->default_val(0);
  app.add_option("documents", a->documents, "Documents (default: read stdin, see --input-format)");
  return [a] { return run_rerank(*a); };
}

const bool registered = register_command({"rerank", "Rank documents by relevance to a query (cross-encoders)", 50, setup});

}  // namespace
}  // namespace bertcpp::cli
