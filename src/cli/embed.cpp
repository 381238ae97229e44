// bertcpp embed: sentence embeddings of texts (arguments, files or stdin; plain lines or JSON Lines),
// streamed through cli/stream.h: bounded memory, tokenization overlapping the forward, resumable.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <numeric>

#include "api/cli_options.h"
#include "cli/command.h"
#include "cli/stream.h"

namespace bertcpp::cli {
namespace {

struct EmbedArgs {
  api::cli::ModelFlags model;
  std::string input_format = "text";
  stream::InputOptions in;
  stream::RunOptions run;
  std::string pooling;
  bool normalize = false;
  bool no_normalize = false;
  std::string prompt_name, prompt;
  bool model_prompt_set = false;  // --prompt given (an empty prompt included)
  std::string format = "json";
  size_t batch_size = 32;
};

int run_embed(EmbedArgs& a) {
  std::optional<Pooling> pooling;
  if (!a.pooling.empty()) pooling = parse_pooling(a.pooling);
  std::optional<bool> normalize;
  if (a.normalize) normalize = true;
  if (a.no_normalize) normalize = false;
  stream::finish_input_options(a.in, a.input_format);
  stream::OutputOptions& o = a.run.output;
  o.format = a.format == "npy" ? stream::OutputFormat::Npy : a.format == "jsonl" ? stream::OutputFormat::Jsonl : stream::OutputFormat::Json;
  const bool to_stdout = o.out.empty() || o.out == "-";
  if (o.format == stream::OutputFormat::Npy && to_stdout && api::cli::stdout_is_terminal())
    throw invalid_argument("--format npy writes binary data: pass --out FILE or redirect stdout");

  (void)api::cli::model_or_default(a.model.model);  // "no model" before waiting on stdin
  stream::RecordReader reader(a.in);
  const Model model = api::cli::load_model(a.model);
  EmbedOptions eo;
  eo.pooling = pooling;
  eo.normalize = normalize;
  if (!a.prompt_name.empty()) eo.prompt_name = a.prompt_name;
  if (a.model_prompt_set) eo.prompt = a.prompt;
  (void)model.embed(std::span<const std::string>(), eo);  // a pipeline embed() cannot run, an unknown prompt name fail here
  const Pooling p = pooling.value_or(model.default_pooling());
  const bool norm = normalize.value_or(model.default_normalize());
  const int64_t H = model.embedding_dimension();
  // embed()'s steps, split so that tokenizing the next window overlaps this one's forward:
  // the prompt, sentence-transformers' lowercasing, truncation to max_seq_length, longest-first batches.
  const std::string prompt = model.resolve_prompt(eo);
  const int64_t prompt_tokens = model.prompt_length(prompt);

  o.dim = H;
  o.ids = !a.in.id_field.empty();
  o.json_prefix = "{\"model\":" + api::cli::json_string(model.name()) + ",\"dimensions\":" + std::to_string(H) +
                  ",\"pooling\":\"" + pooling_name(p) + "\",\"normalized\":" + (norm ? "true" : "false") + ",\"embeddings\":[";
  o.json_separator = ",";
  o.json_suffix = "]}\n";
  a.run.fingerprint = {{"model", stream::model_fingerprint(model, a.model.dtype)}, {"pooling", pooling_name(p)}, {"normalize", norm}};
  if (!prompt.empty()) a.run.fingerprint["prompt"] = prompt;

  stream::Job job;
  job.command = "embed";
  job.prepare = [&](stream::Window& w) {
    std::vector<std::string> texts;
    texts.reserve(w.records.size());
    for (stream::Record& r : w.records) texts.push_back(std::move(r.text));
    w.encodings = model.encode_for_embed(texts, prompt, 1);  // one thread: the forward keeps its own
    for (const Encoding& e : w.encodings) w.tokens += e.size();
  };
  job.compute = [&](stream::Window& w, stream::Results& res, bool rows) {
    const size_t n = w.records.size();
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return w.encodings[x].size() > w.encodings[y].size(); });
    std::vector<float> out(n * static_cast<size_t>(H));
    std::vector<Encoding> chunk;
    for (size_t start = 0; start < n; start += a.batch_size) {
      const size_t m = std::min(a.batch_size, n - start);
      chunk.clear();
      for (size_t i = 0; i < m; ++i) chunk.push_back(std::move(w.encodings[order[start + i]]));
      const Batch batch = Batch::from_encodings(chunk, model.tokenizer().pad_token_id());
      const ModelOutput mo = model.forward(batch, {.pooler_output = false, .head_outputs = false});
      const std::vector<int64_t> plens(prompt_tokens ? m : 0, prompt_tokens);
      const Tensor pooled = model.pool_embeddings(mo.last_hidden_state.to_f32(), batch.attention_mask, eo, plens);
      for (size_t i = 0; i < m; ++i)
        std::memcpy(out.data() + order[start + i] * static_cast<size_t>(H), pooled.data<float>() + static_cast<int64_t>(i) * H,
                    static_cast<size_t>(H) * sizeof(float));
    }
    if (rows) {
      res.rows = std::move(out);
      return;
    }
    res.lines.resize(n);
    for (size_t i = 0; i < n; ++i) {
      std::string& s = res.lines[i];
      if (o.format == stream::OutputFormat::Jsonl) s = stream::json_line_start(w.records[i]) + "\"embedding\":";
      api::cli::append_json_floats(s, out.data() + i * static_cast<size_t>(H), static_cast<size_t>(H));
      if (o.format == stream::OutputFormat::Jsonl) s += '}';
    }
  };
  if (a.in.texts.empty() && reader.reads_stdin() && isatty(STDIN_FILENO) == 1)
    std::fprintf(stderr, "bertcpp embed: reading texts from stdin (one per line; --input-format jsonl for {\"text\": ...}); Ctrl-D ends\n");
  stream::run(reader, job, a.run);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<EmbedArgs>();
  app.footer(
      "Texts: the TEXT arguments, else --input FILEs/globs (in order), else stdin. --input-format text\n"
      "(default) takes every line as one text, a blank line included (its row is the embedding of the\n"
      "empty text, [CLS] [SEP], as sentence-transformers gives for \"\"), so output row i is input line i;\n"
      "--input-format jsonl reads one JSON object per line, the text in --text-field (default \"text\"),\n"
      "blank lines skipped; --id-field NAME carries that field to the output. Texts longer than\n"
      "max_seq_length are truncated.\n"
      "Defaults for --pooling/--normalize come from a sentence-transformers folder (modules.json,\n"
      "1_Pooling/config.json, Normalize), else mean pooling without normalization. Its Dense modules\n"
      "(2_Dense, ...) run after pooling, in modules.json order, as sentence-transformers' encode().\n"
      "Prompts: --prompt-name NAME prepends config_sentence_transformers.json's prompts[NAME] to every\n"
      "text (default: its default_prompt_name, if any); --prompt TEXT prepends TEXT (wins over both).\n"
      "Output: json = {\"model\",\"dimensions\",\"pooling\",\"normalized\",\"embeddings\":[[...],...]};\n"
      "jsonl = one {\"index\":i,(\"id\":...,)\"embedding\":[...]} per text; npy = float32 array [texts, hidden]\n"
      "(ids, with --id-field, in FILE.ids.jsonl: one JSON value per row). --shard-size N with --out DIR\n"
      "writes DIR/part-00000.jsonl|npy, ... of N texts each and DIR/manifest.json.\n"
      "Corpus scale: texts stream through in windows of --window (memory stays flat whatever the input\n"
      "size); the next window is tokenized while the model runs on this one, each window sorted by\n"
      "length into batches of --batch-size, rows written in input order. --out FILE also writes\n"
      "FILE.resume.json; after an interruption (Ctrl-C, kill, full disk) the same command with --resume\n"
      "continues from the last complete row, and the result equals an uninterrupted run's, byte for\n"
      "byte. A progress bar shows on a terminal (--progress: plain lines otherwise), ending with\n"
      "texts/s and tokens/s. See docs/scale.md.\n"
      "Example: bertcpp embed -m BAAI/bge-small-en-v1.5 \"hello world\" \"good morning\"\n"
      "         bertcpp embed -m BAAI/bge-small-en-v1.5 -i corpus.jsonl --input-format jsonl --id-field id \\\n"
      "           -f npy -o corpus.npy --resume");
  api::cli::add_model_flags(app, a->model);
  api::cli::add_input_format_flag(app, a->input_format);
  stream::add_input_flags(app, a->in, a->input_format);
  app.add_option("--pooling", a->pooling,
                 "cls, mean, max, mean_sqrt_len, weightedmean or lasttoken (sentence-transformers' modes; "
                 "default: the model's)")
      ->check(CLI::IsMember({"cls", "mean", "max", "mean_sqrt_len", "weightedmean", "lasttoken"}));
  auto* n = app.add_flag("--normalize", a->normalize, "L2-normalize the embeddings");
  app.add_flag("--no-normalize", a->no_normalize, "Do not normalize, even if the model's config says so")->excludes(n);
  auto* pn = app.add_option("--prompt-name", a->prompt_name,
                            "Prepend the model's prompt NAME (config_sentence_transformers.json 'prompts')");
  app.add_option("--prompt", a->prompt, "Prepend TEXT to every text (sentence-transformers' encode(prompt=...))")
      ->excludes(pn)
      ->each([a](const std::string&) { a->model_prompt_set = true; });
  app.add_option("-f,--format", a->format, "json, jsonl or npy")->default_val("json")->check(CLI::IsMember({"json", "jsonl", "npy"}));
  app.add_option("-b,--batch-size", a->batch_size, "Texts per forward pass")->default_val(32)->check(CLI::Range(size_t{1}, size_t{65536}));
  stream::add_run_flags(app, a->run);
  app.add_option("text", a->in.texts, "Texts to embed (default: --input or stdin)");
  return [a] { return run_embed(*a); };
}

const bool registered = register_command({"embed", "Sentence embeddings (cls/mean/max pooling, optional L2 normalization)", 20, setup});

}  // namespace
}  // namespace bertcpp::cli
