// bertcpp embed: sentence embeddings of texts (arguments, or stdin lines / JSON Lines with --input-format jsonl).
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "api/cli_options.h"
#include "cli/command.h"

namespace bertcpp::cli {
namespace {

struct EmbedArgs {
  api::cli::ModelFlags model;
  std::string input_format = "text";
  std::string pooling;
  bool normalize = false;
  bool no_normalize = false;
  std::string format = "json";
  std::string out;
  std::vector<std::string> texts;
};

int run_embed(const EmbedArgs& a) {
  std::optional<Pooling> pooling;
  if (!a.pooling.empty()) pooling = parse_pooling(a.pooling);
  std::optional<bool> normalize;
  if (a.normalize) normalize = true;
  if (a.no_normalize) normalize = false;
  if (a.format == "npy" && (a.out.empty() || a.out == "-") && api::cli::stdout_is_terminal())
    throw invalid_argument("--format npy writes binary data: pass --out FILE or redirect stdout");

  (void)api::cli::model_or_default(a.model.model);  // "no model" before waiting on stdin
  std::vector<std::string> texts = a.texts;
  if (texts.empty()) {
    if (isatty(STDIN_FILENO) == 1) std::fprintf(stderr, "bertcpp embed: reading texts from stdin (one per line; --input-format jsonl for {\"text\": ...}); Ctrl-D ends\n");
    texts = api::cli::read_texts(std::cin, "stdin", api::cli::parse_input_format(a.input_format));
    if (texts.empty()) throw invalid_argument("no texts: pass TEXT arguments or lines on stdin");
  }

  const Model model = api::cli::load_model(a.model);
  const int64_t H = model.config().hidden_size;
  const auto N = static_cast<int64_t>(texts.size());
  Tensor all = Tensor::empty(DType::F32, {N, H});
  constexpr size_t kBlock = 256;
  api::cli::Progress progress("embedded", texts.size());
  for (size_t start = 0; start < texts.size(); start += kBlock) {
    const size_t n = std::min(kBlock, texts.size() - start);
    const Tensor e = model.embed(std::span<const std::string>(texts.data() + start, n), pooling, normalize);
    std::memcpy(all.data<float>() + static_cast<int64_t>(start) * H, e.data<float>(), e.nbytes());
    progress.update(start + n);
  }
  progress.finish();

  const float* v = all.data<float>();
  std::string s;
  if (a.format == "npy") {
    s = api::cli::npy_bytes(all);
  } else if (a.format == "jsonl") {
    for (int64_t i = 0; i < N; ++i) {
      s += "{\"index\":" + std::to_string(i) + ",\"embedding\":";
      api::cli::append_json_floats(s, v + i * H, static_cast<size_t>(H));
      s += "}\n";
    }
  } else {
    s = "{\"model\":" + api::cli::json_string(model.name()) + ",\"dimensions\":" + std::to_string(H) +
        ",\"pooling\":\"" + pooling_name(pooling.value_or(model.default_pooling())) +
        "\",\"normalized\":" + (normalize.value_or(model.default_normalize()) ? "true" : "false") + ",\"embeddings\":[";
    for (int64_t i = 0; i < N; ++i) {
      if (i) s += ',';
      api::cli::append_json_floats(s, v + i * H, static_cast<size_t>(H));
    }
    s += "]}\n";
  }
  api::cli::write_output(a.out, s);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<EmbedArgs>();
  app.footer(
      "Texts: the TEXT arguments, else stdin: --input-format text (default) takes every line as one text,\n"
      "a blank line included (its row is the embedding of the empty text, [CLS] [SEP], as\n"
      "sentence-transformers gives for \"\"), so output row i is input line i; --input-format jsonl reads\n"
      "one {\"text\": \"...\"} per line (blank lines skipped). Texts longer than max_seq_length are truncated.\n"
      "Defaults for --pooling/--normalize come from a sentence-transformers folder (modules.json,\n"
      "1_Pooling/config.json, Normalize), else mean pooling without normalization.\n"
      "Output: json = {\"model\",\"dimensions\",\"pooling\",\"normalized\",\"embeddings\":[[...],...]};\n"
      "jsonl = one {\"index\":i,\"embedding\":[...]} per text; npy = float32 array [texts, hidden].\n"
      "Example: bertcpp embed -m BAAI/bge-small-en-v1.5 \"hello world\" \"good morning\"");
  api::cli::add_model_flags(app, a->model);
  api::cli::add_input_format_flag(app, a->input_format);
  app.add_option("--pooling", a->pooling,
                 "cls, mean, max, mean_sqrt_len, weightedmean or lasttoken (sentence-transformers' modes; "
                 "default: the model's)")
      ->check(CLI::IsMember({"cls", "mean", "max", "mean_sqrt_len", "weightedmean", "lasttoken"}));
  auto* n = app.add_flag("--normalize", a->normalize, "L2-normalize the embeddings");
  app.add_flag("--no-normalize", a->no_normalize, "Do not normalize, even if the model's config says so")->excludes(n);
  app.add_option("-f,--format", a->format, "json, jsonl or npy")->default_val("json")->check(CLI::IsMember({"json", "jsonl", "npy"}));
  app.add_option("-o,--out", a->out, "Write to FILE instead of stdout");
  app.add_option("text", a->texts, "Texts to embed (default: read stdin)");
  return [a] { return run_embed(*a); };
}

const bool registered = register_command({"embed", "Sentence embeddings (cls/mean/max pooling, optional L2 normalization)", 20, setup});

}  // namespace
}  // namespace bertcpp::cli
