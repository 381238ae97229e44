// bertcpp tokenize: BertTokenizer (transformers 4.19, slow) ids, tokens and offsets as JSON Lines.
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

namespace bertcpp::cli {
namespace {

using json = nlohmann::ordered_json;

struct TokenizeArgs {
  std::string model;
  std::vector<std::string> texts;
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

std::string to_json_line(const Encoding& e) {
  json j;
  j["tokens"] = e.tokens;
  j["input_ids"] = e.input_ids;
  j["token_type_ids"] = e.token_type_ids;
  j["attention_mask"] = e.attention_mask;
  json off = json::array();
  for (const auto& [b, en] : e.offsets) off.push_back({b, en});
  j["offsets"] = off;
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

// One stdin line: a JSON object {"text": ..., "text_pair": ..., ...} or a plain text.
void run_line(const Tokenizer& tok, const std::string& line, size_t lineno, const EncodeOptions& base) {
  const std::string where = "stdin line " + std::to_string(lineno) + ": ";
  size_t first = line.find_first_not_of(" \t");
  EncodeOptions o = base;
  std::string text;
  std::optional<std::string> pair;
  if (first != std::string::npos && line[first] == '{') {
    json j;
    try {
      j = json::parse(line);
    } catch (const std::exception& e) {
      throw invalid_argument(where + "invalid JSON (" + std::string(e.what()) + ")");
    }
    if (!j.is_object()) throw invalid_argument(where + "expected a JSON object");
    auto t = j.find("text");
    if (t == j.end() || !t->is_string()) throw invalid_argument(where + "\"text\" must be a string");
    text = t->get<std::string>();
    if (auto p = j.find("text_pair"); p != j.end() && !p->is_null()) {
      if (!p->is_string()) throw invalid_argument(where + "\"text_pair\" must be a string");
      pair = p->get<std::string>();
    }
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
  } else {
    text = line;
  }
  Encoding e;
  try {
    e = pair ? tok.encode_pair(text, *pair, o) : tok.encode(text, o);
  } catch (const Error& err) {
    throw Error(err.kind(), where + err.what());
  }
  std::string out = to_json_line(e);
  out.push_back('\n');
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fflush(stdout);
}

int run_tokenize(TokenizeArgs& a) {
  if (a.lower && a.no_lower) throw invalid_argument("--lower-case and --no-lower-case exclude each other");
  if (a.strip && a.no_strip) throw invalid_argument("--strip-accents and --no-strip-accents exclude each other");
  if (a.max_length && *a.max_length < 0) throw invalid_argument("--max-length must be >= 0");
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
  // A local folder or a hub id (resolved through the Hugging Face cache, downloaded when missing).
  const Tokenizer tok = Tokenizer::from_pretrained(a.model, to);
  if (!a.texts.empty()) {
    for (size_t i = 0; i < a.texts.size(); ++i) {
      EncodeOptions o = base;
      Encoding e = tok.encode(a.texts[i], o);
      std::string out = to_json_line(e);
      out.push_back('\n');
      std::fwrite(out.data(), 1, out.size(), stdout);
    }
    std::fflush(stdout);
    return 0;
  }
  std::string line;
  size_t lineno = 0;
  while (std::getline(std::cin, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    run_line(tok, line, lineno, base);
  }
  return 0;
}

std::function<int()> setup(CLI::App& app) {
  auto a = std::make_shared<TokenizeArgs>();
  app.footer(
      "Tokenizes exactly like Hugging Face: a folder with tokenizer.json through the tokenizers (Rust)\n"
      "pipeline, as AutoTokenizer does (--backend slow: transformers' BertTokenizer instead), a folder\n"
      "with only vocab.txt like BertTokenizer; ids, tokens and character offsets.\n"
      "With TEXT arguments: one JSON line per text. Without: reads stdin, one input per line, either\n"
      "plain text or a JSON object {\"text\":..., \"text_pair\":..., \"max_length\":N,\n"
      "\"truncation\": true|false|\"longest_first\"|\"only_first\"|\"only_second\",\n"
      "\"padding\": false|true|\"longest\"|\"max_length\", \"add_special_tokens\": true|false}.\n"
      "Output per input: {\"tokens\":[...],\"input_ids\":[...],\"token_type_ids\":[...],\n"
      "\"attention_mask\":[...],\"offsets\":[[begin,end],...]} (offsets in code points of the text;\n"
      "[0,0] for special and padding tokens). A bad input line stops with exit code 2.\n"
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
  app.add_option("text", a->texts, "Texts to tokenize (default: read stdin, one per line / JSON Lines)");
  return [a] { return run_tokenize(*a); };
}

const bool registered = register_command({"tokenize", "Tokenize texts like Hugging Face tokenizers (ids, tokens, offsets)", 60, setup});

}  // namespace
}  // namespace bertcpp::cli
