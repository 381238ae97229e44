// bertcpp classify: label scores of texts (sequence-classification models), streamed (cli/stream.h).
#include <memory>

#include "api/cli_options.h"
#include "cli/command.h"
#include "cli/stream.h"

namespace bertcpp::cli {
namespace {

struct ClassifyArgs {
  api::cli::ModelFlags model;
  std::string input_format = "text";
  stream::InputOptions in;
  stream::RunOptions run;
  std::string format = "json";
  std::string pair;
  int top_k = 0;
};

int run_classify(ClassifyArgs& a) {
  if (a.top_k < 0) throw invalid_argument("--top-k must be >= 0, got " + std::to_string(a.top_k));
  stream::finish_input_options(a.in, a.input_format);
  if (!a.pair.empty() && !a.in.pair_field.empty()) throw invalid_argument("pass --pair or --pair-field, not both");
  stream::OutputOptions& o = a.run.output;
  o.format = a.format == "jsonl" ? stream::OutputFormat::Jsonl : stream::OutputFormat::Json;
  // The historical output: one text's labels alone, several texts' as an array of them.
  o.json_prefix = "[\n  ";
  o.json_separator = ",\n  ";
  o.json_suffix = "\n]\n";
  o.unwrap_single = true;
  (void)api::cli::model_or_default(a.model.model);  // "no model" before waiting on stdin
  stream::RecordReader reader(a.in);
  const Model model = api::cli::load_model(a.model);
  std::optional<std::string> pair;
  if (!a.pair.empty()) pair = a.pair;
  a.run.fingerprint = {{"model", stream::model_fingerprint(model, a.model.dtype)}, {"pair", a.pair}, {"top_k", a.top_k}};

  stream::Job job;
  job.command = "classify";
  job.window = 256;
  const EncodeOptions eo = model.task_encode_options();
  job.prepare = [&](stream::Window& w) {
    w.encodings.reserve(w.records.size());
    for (const stream::Record& r : w.records) {
      const std::optional<std::string>& p = r.pair ? r.pair : pair;
      w.encodings.push_back(p ? model.tokenizer().encode_pair(r.text, *p, eo) : model.tokenizer().encode(r.text, eo));
      w.tokens += w.encodings.back().size();
    }
  };
  job.compute = [&](stream::Window& w, stream::Results& res, bool) {
    std::vector<std::vector<LabelScore>> all = model.classify(w.encodings);
    res.lines.reserve(w.records.size());
    for (size_t k = 0; k < w.records.size(); ++k) {
      const stream::Record& r = w.records[k];
      std::vector<LabelScore>& scores = all[k];
      if (a.top_k > 0 && scores.size() > static_cast<size_t>(a.top_k)) scores.resize(static_cast<size_t>(a.top_k));
      std::string s = o.format == stream::OutputFormat::Jsonl ? stream::json_line_start(r) + "\"labels\":[" : "[";
      for (size_t i = 0; i < scores.size(); ++i) {
        if (i) s += ',';
        s += "{\"label\":";
        s += api::cli::json_string(scores[i].label);
        s += ",\"score\":";
        api::cli::append_json_float(s, scores[i].score);
        s += "}";
      }
      s += o.format == stream::OutputFormat::Jsonl ? "]}" : "]";
      res.lines.push_back(std::move(s));
    }
  };
  stream::run(reader, job, a.run);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<ClassifyArgs>();
  app.footer(
      "Prints, per text, every label with its probability, best first, as transformers'\n"
      "text-classification pipeline (softmax; sigmoid for single-label or multi-label models):\n"
      "[{\"label\":\"positive\",\"score\":0.93},{\"label\":\"negative\",\"score\":0.07}]\n"
      "Several texts give an array of such arrays; --format jsonl gives one\n"
      "{\"index\":i,(\"id\":...,)\"labels\":[...]} per text. --pair classifies (TEXT, PAIR) pairs (NLI,\n"
      "cross-encoders); --pair-field NAME takes each pair's second text from a JSON Lines field.\n"
      "Texts: TEXT arguments, --input FILEs/globs or stdin, streamed like embed (docs/scale.md):\n"
      "--out FILE + --resume (jsonl), --progress.\n"
      "Example: bertcpp classify -m ./sst2-model \"I loved it\" \"Terrible.\"");
  api::cli::add_model_flags(app, a->model);
  api::cli::add_input_format_flag(app, a->input_format);
  stream::add_input_flags(app, a->in, a->input_format);
  app.add_option("--pair-field", a->in.pair_field, "jsonl: the field holding each pair's second text");
  app.add_option("--pair", a->pair, "Second text of every input pair");
  app.add_option("-k,--top-k", a->top_k, "Only the best K labels (0 = all)")->default_val(0);
  app.add_option("-f,--format", a->format, "json or jsonl")->default_val("json")->check(CLI::IsMember({"json", "jsonl"}));
  stream::add_run_flags(app, a->run);
  app.add_option("text", a->in.texts, "Texts to classify (default: --input or stdin, see --input-format)");
  return [a] { return run_classify(*a); };
}

const bool registered = register_command({"classify", "Classify texts or text pairs (sequence-classification models)", 40, setup});

}  // namespace
}  // namespace bertcpp::cli
