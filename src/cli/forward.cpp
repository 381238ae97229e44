// bertcpp forward: transformers' model(**inputs) outputs, written to a .safetensors file (named
// like the goldens: <output>, or <case>.<output> with --case). Inputs come from a .safetensors
// file of I64 tensors or from texts tokenized with the model's tokenizer.
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "api/cli_options.h"
#include "cli/command.h"
#include "io/checkpoint.h"
#include "model/tensor_file.h"

namespace bertcpp::cli {
namespace {

const std::vector<std::string> kOutputs = {"last_hidden_state", "pooler_output", "hidden_states", "attentions",
                                           "logits", "prediction_logits", "seq_relationship_logits",
                                           "start_logits", "end_logits", "input_ids", "attention_mask",
                                           "token_type_ids"};

struct ForwardArgs {
  api::cli::ModelFlags model;
  std::string outputs;
  std::string out;
  std::string input_file;
  std::string case_name;
  bool pair = false;
  int64_t max_length = 0;
  std::vector<std::string> texts;
};

std::vector<std::string> split_outputs(const std::string& s) {
  std::vector<std::string> names;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    bool known = false;
    for (const auto& k : kOutputs) known = known || k == item;
    if (!known) {
      std::string all;
      for (const auto& k : kOutputs) all += (all.empty() ? "" : ", ") + k;
      throw invalid_argument("--outputs: unknown output '" + item + "' (known: " + all + ")");
    }
    names.push_back(item);
  }
  return names;
}

Batch batch_from_file(const std::string& file, const std::string& case_name) {
  const io::Checkpoint f = io::Checkpoint::open(file);
  const std::string prefix = case_name.empty() ? "" : case_name + ".";
  if (!f.contains(prefix + "input_ids"))
    throw not_found(file + ": no tensor '" + prefix + "input_ids'" +
                    (case_name.empty() ? " (pass --case NAME for files with <case>.input_ids)" : ""));
  Batch b;
  b.input_ids = f.get(prefix + "input_ids").clone();
  if (f.contains(prefix + "attention_mask")) b.attention_mask = f.get(prefix + "attention_mask").clone();
  if (f.contains(prefix + "token_type_ids")) b.token_type_ids = f.get(prefix + "token_type_ids").clone();
  return b;
}

Batch batch_from_texts(const Model& model, const ForwardArgs& a) {
  EncodeOptions eo;
  eo.padding = Padding::Longest;
  if (a.max_length > 0) {
    eo.truncation = Truncation::LongestFirst;
    eo.max_length = a.max_length;
  }
  std::vector<Encoding> enc;
  if (a.pair) {
    if (a.texts.size() % 2 != 0)
      throw invalid_argument("--pair needs an even number of TEXT arguments (text, text_pair, ...), got " +
                             std::to_string(a.texts.size()));
    std::vector<std::pair<std::string, std::string>> pairs;
    for (size_t i = 0; i < a.texts.size(); i += 2) pairs.emplace_back(a.texts[i], a.texts[i + 1]);
    enc = model.tokenizer().encode_pair_batch(pairs, eo, a.model.threads);
  } else {
    enc = model.tokenizer().encode_batch(a.texts, eo, a.model.threads);
  }
  return Batch::from_encodings(enc, model.tokenizer().pad_token_id());
}

// [n, ...] from n equally shaped tensors.
Tensor stack(const std::vector<Tensor>& ts) {
  Shape s = ts.at(0).shape();
  s.insert(s.begin(), static_cast<int64_t>(ts.size()));
  Tensor out = Tensor::empty(DType::F32, s);
  char* p = static_cast<char*>(out.raw());
  for (const Tensor& t : ts) {
    std::memcpy(p, t.raw(), t.nbytes());
    p += t.nbytes();
  }
  return out;
}

int run_forward(const ForwardArgs& a) {
  const std::vector<std::string> names = split_outputs(a.outputs);
  if (names.empty()) throw invalid_argument("--outputs is empty");
  if (a.input_file.empty() == a.texts.empty())
    throw invalid_argument(a.texts.empty() ? "no input: pass --input-ids FILE.safetensors or TEXT arguments"
                                           : "pass either --input-ids or TEXT arguments, not both");
  if (!a.case_name.empty() && a.input_file.empty()) throw invalid_argument("--case needs --input-ids");
  const Batch file_batch = a.input_file.empty() ? Batch{} : batch_from_file(a.input_file, a.case_name);

  const Model model = api::cli::load_model(a.model);
  const Batch batch = a.input_file.empty() ? batch_from_texts(model, a) : file_batch;
  OutputRequest req;
  for (const auto& n : names) {
    req.hidden_states = req.hidden_states || n == "hidden_states";
    req.attentions = req.attentions || n == "attentions";
  }
  const ModelOutput o = model.forward(batch, req);

  std::map<std::string, Tensor> tensors;
  const std::string prefix = a.case_name.empty() ? "" : a.case_name + ".";
  for (const auto& n : names) {
    Tensor t;
    if (n == "last_hidden_state") t = o.last_hidden_state;
    else if (n == "pooler_output") t = o.pooler_output;
    else if (n == "hidden_states") t = stack(o.hidden_states);
    else if (n == "attentions") t = stack(o.attentions);
    else if (n == "logits") t = o.logits;
    else if (n == "prediction_logits") t = o.prediction_logits;
    else if (n == "seq_relationship_logits") t = o.seq_relationship_logits;
    else if (n == "start_logits") t = o.start_logits;
    else if (n == "end_logits") t = o.end_logits;
    else if (n == "input_ids") t = batch.input_ids;
    else if (n == "attention_mask") t = batch.attention_mask;
    else if (n == "token_type_ids") t = batch.token_type_ids;
    if (!t.defined())
      throw invalid_argument("this model (head: " + model.head() + ") has no output '" + n + "'" +
                             (n == "pooler_output" ? " (its checkpoint has no pooler)" : ""));
    tensors[prefix + n] = t;
  }
  model::safetensors_write(a.out, tensors);
  for (const auto& [name, t] : tensors)
    std::printf("%s %s %s\n", name.c_str(), std::string(dtype_name(t.dtype())).c_str(), shape_to_string(t.shape()).c_str());
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<ForwardArgs>();
  app.footer(
      "Inputs: --input-ids FILE.safetensors with I64 tensors input_ids [batch, seq] and optional\n"
      "attention_mask, token_type_ids (with --case NAME: NAME.input_ids, ... as in a golden\n"
      "expected.safetensors), or TEXT arguments tokenized with the model's tokenizer and padded to\n"
      "the longest (--pair: consecutive TEXTs are (text, text_pair) pairs).\n"
      "Output: a .safetensors file with one F32 tensor per requested output, named <output> or\n"
      "<case>.<output>; hidden_states is stacked [layers+1, batch, seq, hidden], attentions\n"
      "[layers, batch, heads, seq, seq]. The names and shapes written are printed on stdout.\n"
      "Example: bertcpp forward -m tests/data/models/tiny-bert --input-ids tests/data/models/tiny-bert/expected.safetensors\n"
      "           --case single --outputs last_hidden_state,pooler_output --out out.safetensors");
  api::cli::add_model_flags(app, a->model);
  app.add_option("--outputs", a->outputs,
                 "Comma-separated outputs: last_hidden_state, pooler_output, hidden_states, attentions, logits, "
                 "prediction_logits, seq_relationship_logits, start_logits, end_logits (and the inputs input_ids, "
                 "attention_mask, token_type_ids)")
      ->default_val("last_hidden_state");
  app.add_option("-o,--out", a->out, "The .safetensors file to write")->required();
  app.add_option("--input-ids", a->input_file, "A .safetensors file with the input tensors (I64)");
  app.add_option("--case", a->case_name, "Read <case>.input_ids etc. and name outputs <case>.<output>");
  app.add_flag("--pair", a->pair, "TEXT arguments are (text, text_pair) pairs");
  app.add_option("--max-length", a->max_length, "Truncate tokenized TEXTs to N tokens (longest_first); default: no truncation")
      ->check(CLI::PositiveNumber);
  app.add_option("text", a->texts, "Texts to run (instead of --input-ids)");
  return [a] { return run_forward(*a); };
}

const bool registered = register_command({"forward", "Raw model outputs (hidden states, attentions, logits) to .safetensors", 80, setup});

}  // namespace
}  // namespace bertcpp::cli
