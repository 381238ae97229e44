// bertcpp tokenize: Hugging Face tokenizers' ids, tokens and offsets as JSON Lines, streamed (cli/stream.h).
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "cli/command.h"
#include "cli/stream.h"

namespace bertcpp::cli {
namespace {

using json = nlohmann::ordered_json;

struct TokenizeArgs {
  std::string model;
  std::string input_format = "auto";
  stream::InputOptions in;
  stream::RunOptions run;
  bool lower = false, no_lower = false, strip = false, no_strip = false, no_cjk = false, no_special = false;
  std::optional<int64_t> max_length;
  std::string truncation = "false";
  std::string padding = "false";
  std::string backend = "auto";
};

Truncation parse_truncation(const std::string& v, const std::string& where) {
  if (v == "false" || v == "do_not_truncate") return Truncation::None;
  if (v == "true" || v == "longest_first") return Truncation::LongestFirst;
  if (v == "only_first") return Truncation::OnlyFirst;
  if (v == "only_second") return Truncation::OnlySecond;
  throw invalid_argument(where + "truncation must be true, false, longest_first, only_first or only_second, got \"" + v + "\"");
}

Padding parse_padding(const std::string& v, const std::string& where) {
  if (v == "false" || v == "do_not_pad") return Padding::None;
  if (v == "true" || v == "longest") return Padding::Longest;
  if (v == "max_length") return Padding::MaxLength;
  throw invalid_argument(where + "padding must be true, false, longest or max_length, got \"" + v + "\"");
}

std::string to_json_line(const Encoding& e, const std::string& id) {
  json j;
  if (!id.empty()) j["id"] = json::parse(id);
  j["tokens"] = e.tokens;
  j["input_ids"] = e.input_ids;
  j["token_type_ids"] = e.token_type_ids;
  j["attention_mask"] = e.attention_mask;
  json off = json::array();
  for (const auto& [b, en] : e.offsets) off.push_back({b, en});
  j["offsets"] = off;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One record: a JSON object's per-input options {"max_length", "truncation", ...} over the flags'.
std::string encode_record(const Tokenizer& tok, const stream::Record& r, const EncodeOptions& base) {
  const std::string where = r.where + ": ";
  EncodeOptions o = base;
  if (r.object.is_object()) {
    const json& j = r.object;
    if (auto m = j.find("max_length"); m != j.end()) {
      if (m->is_null())
        o.max_length.reset();
      else if (m->is_number_integer() && m->get<int64_t>() >= 0)
        o.max_length = m->get<int64_t>();
      else
        throw invalid_argument(where + "\"max_length\" must be a non-negative integer or null");
    }
    if (auto v = j.find("truncation"); v != j.end()) {
      if (v->is_boolean())
        o.truncation = v->get<bool>() ? Truncation::LongestFirst : Truncation::None;
      else if (v->is_string())
        o.truncation = parse_truncation(v->get<std::string>(), where);
      else
        throw invalid_argument(where + "\"truncation\" must be a boolean or a strategy name");
    }
    if (auto v = j.find("padding"); v != j.end()) {
      if (v->is_boolean())
        o.padding = v->get<bool>() ? Padding::Longest : Padding::None;
      else if (v->is_string())
        o.padding = parse_padding(v->get<std::string>(), where);
      else
        throw invalid_argument(where + "\"padding\" must be a boolean or \"longest\" / \"max_length\"");
    }
    if (auto v = j.find("add_special_tokens"); v != j.end()) {
      if (!v->is_boolean()) throw invalid_argument(where + "\"add_special_tokens\" must be a boolean");
      o.add_special_tokens = v->get<bool>();
    }
  }
  try {
    const Encoding e = r.pair ? tok.encode_pair(r.text, *r.pair, o) : tok.encode(r.text, o);
    return to_json_line(e, r.id);
  } catch (const Error& err) {
    throw Error(err.kind(), where + err.what());
  }
}

int run_tokenize(TokenizeArgs& a) {
  if (a.lower && a.no_lower) throw invalid_argument("--lower-case and --no-lower-case exclude each other");
  if (a.strip && a.no_strip) throw invalid_argument("--strip-accents and --no-strip-accents exclude each other");
  if (a.max_length && *a.max_length < 0) throw invalid_argument("--max-length must be >= 0");
  stream::finish_input_options(a.in, a.input_format);
  if (a.in.format == api::cli::InputFormat::Jsonl || a.in.json_objects_in_text) a.in.pair_field = "text_pair";
  a.run.output.format = stream::OutputFormat::Jsonl;
  TokenizerOptions to;
  if (a.lower) to.do_lower_case = true;
  if (a.no_lower) to.do_lower_case = false;
  if (a.strip) to.strip_accents = true;
  if (a.no_strip) to.strip_accents = false;
  if (a.no_cjk) to.tokenize_chinese_chars = false;
  if (a.backend == "slow")
    to.backend = TokenizerBackend::Slow;
  else if (a.backend == "fast")
    to.backend = TokenizerBackend::Fast;
  else if (a.backend != "auto")
    throw invalid_argument("--backend must be auto, slow or fast, got \"" + a.backend + "\"");
  EncodeOptions base;
  base.truncation = parse_truncation(a.truncation, "--");
  base.padding = parse_padding(a.padding, "--");
  base.max_length = a.max_length;
  base.add_special_tokens = !a.no_special;
  stream::RecordReader reader(a.in);
  // A local folder or a hub id (resolved through the Hugging Face cache, downloaded when missing).
  const Tokenizer tok = Tokenizer::from_pretrained(a.model, to);
  a.run.fingerprint = {{"model", a.model},
                       {"model_files", stream::folder_fingerprint(a.model)},
                       {"options", {a.lower, a.no_lower, a.strip, a.no_strip, a.no_cjk, a.no_special, a.max_length.value_or(-1),
                                    a.truncation, a.padding, a.backend}}};
  stream::Job job;
  job.command = "tokenize";
  job.prepare = [&](stream::Window& w) {
    w.lines.reserve(w.records.size());
    for (size_t i = 0; i < w.records.size(); ++i) {
      try {
        w.lines.push_back(encode_record(tok, w.records[i], base));
      } catch (...) {
        w.records.resize(i);  // the records before the bad one are still written
        w.error = std::current_exception();
        return;
      }
    }
  };
  job.compute = [](stream::Window& w, stream::Results& res, bool) { res.lines = std::move(w.lines); };
  stream::run(reader, job, a.run);
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  app.footer(
      "Tokenizes exactly like Hugging Face: a folder with tokenizer.json through the tokenizers (Rust)\n"
      "pipeline, as AutoTokenizer does (--backend slow: transformers' BertTokenizer instead), a folder\n"
      "with only vocab.txt like BertTokenizer; ids, tokens and character offsets.\n"
      "With TEXT arguments: one JSON line per text. Without: reads --input FILEs/globs or stdin, one input\n"
      "per line (--input-format auto, the default), either plain text or a JSON object {\"text\":..., \"text_pair\":..., \"max_length\":N,\n"
      "\"truncation\": true|false|\"longest_first\"|\"only_first\"|\"only_second\",\n"
      "\"padding\": false|true|\"longest\"|\"max_length\", \"add_special_tokens\": true|false}.\n"
      "Output per input: {\"tokens\":[...],\"input_ids\":[...],\"token_type_ids\":[...],\n"
      "\"attention_mask\":[...],\"offsets\":[[begin,end],...]} (offsets in code points of the text;\n"
      "[0,0] for special and padding tokens), with \"id\" first when --id-field names a field of the\n"
      "JSON objects. --input-format text: every line is plain text; jsonl: every non-blank line is an\n"
      "object (text in --text-field). A bad input line stops with exit code 2, after every line before it.\n"
      "Streams like embed (see docs/scale.md): bounded memory, --out FILE + --resume, --progress.\n"
      "Example: bertcpp tokenize -m ./bert-base-uncased \"Hello, world!\"");
  app.add_option("-m,--model", a->model, "A Hugging Face id or a folder with vocab.txt (+ tokenizer_config.json) or tokenizer.json")->required();
  app.add_option("--backend", a->backend, "auto (tokenizer.json if present), slow (BertTokenizer), fast (tokenizer.json)")
      ->default_val("auto");
  app.add_flag("--lower-case", a->lower, "Force do_lower_case=True (slow backend)");
  app.add_flag("--no-lower-case", a->no_lower, "Force do_lower_case=False");
  app.add_flag("--strip-accents", a->strip, "Force strip_accents=True");
  app.add_flag("--no-strip-accents", a->no_strip, "Force strip_accents=False");
  app.add_flag("--no-chinese-split", a->no_cjk, "tokenize_chinese_chars=False");
  app.add_flag("--no-special-tokens", a->no_special, "Do not add [CLS]/[SEP]");
  app.add_option("--max-length", a->max_length, "max_length for truncation / padding (default: model_max_length)");
  app.add_option("--truncation", a->truncation, "false, true, longest_first, only_first, only_second")->default_val("false");
  app.add_option("--padding", a->padding, "false, true, longest, max_length")->default_val("false");
  app.add_option("--input-format", a->input_format,
                 "auto (a line starting with '{' is a JSON object, others plain text), text or jsonl")
      ->default_val("auto")
      ->check(CLI::IsMember({"auto", "text", "jsonl"}));
  stream::add_input_flags(app, a->in, a->input_format);
  stream::add_run_flags(app, a->run);
  app.add_option("text", a->in.texts, "Texts to tokenize (default: --input or stdin, one per line / JSON Lines)");
  return [a] { return run_tokenize(*a); };
}

const bool registered = register_command({"tokenize", "Tokenize texts like Hugging Face tokenizers (ids, tokens, offsets)", 60, setup});

}  // namespace
}  // namespace bertcpp::cli
