// bertcpp::Tokenizer: loading (vocab.txt + tokenizer_config.json + special_tokens_map.json +
// added_tokens.json, or tokenizer.json), encoding with truncation/padding as transformers 4.19's
// PreTrainedTokenizerBase, decoding as BertTokenizer.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <set>
#include <unordered_set>
#include <functional>
#include <thread>

#include "bertcpp/error.h"
#include "bertcpp/tokenizer.hpp"
#include "io/json_util.h"
#include "io/sentencepiece_files.h"
#include "tokenizer/hf_backend.hpp"
#include "tokenizer/impl.hpp"
#include "tokenizer/unicode.hpp"

namespace bertcpp {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxVocabFileBytes = size_t(512) << 20;
constexpr size_t kMaxJsonFileBytes = size_t(512) << 20;
const char* const kSpecialAttrs[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                     "pad_token", "cls_token", "mask_token"};

tok::Config default_config() {
  tok::Config c;
  c.specials["unk_token"] = {"[UNK]", false, false, false};
  c.specials["sep_token"] = {"[SEP]", false, false, false};
  c.specials["pad_token"] = {"[PAD]", false, false, false};
  c.specials["cls_token"] = {"[CLS]", false, false, false};
  c.specials["mask_token"] = {"[MASK]", false, false, false};
  return c;
}

bool get_bool(const json& j, const std::string& file, const char* key) {
  if (!j.is_boolean()) throw invalid_file(file, std::string("\"") + key + "\" must be true or false, got " + io::json_brief(j));
  return j.get<bool>();
}

std::string get_string(const json& j, const std::string& file, const std::string& key) {
  if (!j.is_string()) throw invalid_file(file, "\"" + key + "\" must be a string, got " + io::json_brief(j));
  return j.get<std::string>();
}

// A special token: "text" or {"__type": "AddedToken", "content": ..., "lstrip": ..., "rstrip": ...}.
std::optional<tok::SpecialToken> parse_special(const json& j, const std::string& file, const std::string& key) {
  if (j.is_null()) return std::nullopt;
  if (j.is_string()) return tok::SpecialToken{j.get<std::string>(), false, false, false};
  if (j.is_object()) {
    auto it = j.find("content");
    if (it == j.end()) throw invalid_file(file, "\"" + key + "\" has no \"content\"");
    tok::SpecialToken s{get_string(*it, file, key + ".content"), true, false, false};
    if (auto l = j.find("lstrip"); l != j.end()) s.lstrip = get_bool(*l, file, "lstrip");
    if (auto r = j.find("rstrip"); r != j.end()) s.rstrip = get_bool(*r, file, "rstrip");
    return s;
  }
  throw invalid_file(file, "\"" + key + "\" must be a string or an AddedToken object, got " + io::json_brief(j));
}

void set_model_max_length(tok::Config& c, const json& j, const std::string& file) {
  if (j.is_null()) return;
  if (!j.is_number()) throw invalid_file(file, "\"model_max_length\" must be a number, got " + io::json_brief(j));
  const double v = j.get<double>();
  if (v > 1e20) {  // transformers treats anything above LARGE_INTEGER as "no maximum"
    c.model_max_length.reset();
    return;
  }
  if (v < 0 || !std::isfinite(v)) throw invalid_file(file, "\"model_max_length\" must be >= 0, got " + io::json_brief(j));
  if (auto i = io::json_int64(j))
    c.model_max_length = *i;
  else
    c.model_max_length = v >= 9.2e18 ? INT64_MAX : static_cast<int64_t>(v);
}

// tokenizer_config.json (BertTokenizer init kwargs) and special_tokens_map.json.
void apply_config_json(tok::Config& c, const json& j, const std::string& file, bool special_map_only) {
  if (!j.is_object()) throw invalid_file(file, "expected a JSON object");
  for (const char* key : kSpecialAttrs) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (auto s = parse_special(*it, file, key)) c.specials[key] = *s;
  }
  if (auto it = j.find("additional_special_tokens"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw invalid_file(file, "\"additional_special_tokens\" must be a list");
    c.additional_special_tokens.clear();
    for (const auto& e : *it)
      if (auto s = parse_special(e, file, "additional_special_tokens")) c.additional_special_tokens.push_back(*s);
  }
  if (special_map_only) return;
  if (auto it = j.find("do_lower_case"); it != j.end() && !it->is_null()) c.do_lower_case = get_bool(*it, file, "do_lower_case");
  if (auto it = j.find("strip_accents"); it != j.end()) {
    if (it->is_null())
      c.strip_accents.reset();
    else
      c.strip_accents = get_bool(*it, file, "strip_accents");
  }
  if (auto it = j.find("tokenize_chinese_chars"); it != j.end() && !it->is_null())
    c.tokenize_chinese_chars = get_bool(*it, file, "tokenize_chinese_chars");
  if (auto it = j.find("do_basic_tokenize"); it != j.end() && !it->is_null())
    c.do_basic_tokenize = get_bool(*it, file, "do_basic_tokenize");
  if (auto it = j.find("never_split"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) throw invalid_file(file, "\"never_split\" must be a list of strings");
    c.never_split.clear();
    for (const auto& e : *it) c.never_split.push_back(get_string(e, file, "never_split[]"));
  }
  if (auto it = j.find("model_max_length"); it != j.end())
    set_model_max_length(c, *it, file);
  else if (auto m = j.find("max_len"); m != j.end())
    set_model_max_length(c, *m, file);
  for (const char* side : {"padding_side", "truncation_side"}) {
    auto it = j.find(side);
    if (it == j.end() || it->is_null()) continue;
    std::string v = get_string(*it, file, side);
    if (v != "left" && v != "right") throw invalid_file(file, std::string("\"") + side + "\" must be \"left\" or \"right\", got \"" + v + "\"");
    (std::string(side) == "padding_side" ? c.padding_left : c.truncation_left) = v == "left";
  }
}

json read_json(const fs::path& p) {
  std::string text = io::read_small_file(p.string(), kMaxJsonFileBytes);
  return io::parse_json_strict(text, p.string());
}

void apply_options(tok::Config& c, const TokenizerOptions& o) {
  if (o.do_lower_case) c.do_lower_case = *o.do_lower_case;
  if (o.strip_accents) c.strip_accents = *o.strip_accents;
  if (o.tokenize_chinese_chars) c.tokenize_chinese_chars = *o.tokenize_chinese_chars;
  if (o.never_split) c.never_split = *o.never_split;
  if (o.model_max_length) {
    if (*o.model_max_length < 0) throw invalid_argument("model_max_length must be >= 0, got " + std::to_string(*o.model_max_length));
    c.model_max_length = *o.model_max_length;
  }
}

// load_vocab: Python text-mode readlines() (universal newlines) then rstrip("\n"); a later
// duplicate of a token overrides its id, ids_to_tokens is the inverse of the final dict.
void load_vocab_txt(Tokenizer::Impl& t, const fs::path& path) {
  const std::string file = path.string();
  std::string data = io::read_small_file(file, kMaxVocabFileBytes);
  if (!io::is_valid_utf8(data)) throw invalid_file(file, "vocabulary is not valid UTF-8");
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n' || data[i] == '\r') {
      lines.emplace_back(data.data() + start, i - start);
      if (data[i] == '\r' && i + 1 < data.size() && data[i + 1] == '\n') ++i;
      start = i + 1;
    }
  }
  if (start < data.size()) lines.emplace_back(data.data() + start, data.size() - start);
  if (lines.empty()) throw invalid_file(file, "vocabulary is empty");
  t.vocab.reserve(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) t.vocab.insert(lines[i], static_cast<int64_t>(i));
  t.id_to_token.assign(lines.size(), std::string());
  t.has_id.assign(lines.size(), false);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (t.vocab.find(lines[i]) == static_cast<int64_t>(i)) {
      t.id_to_token[i] = std::string(lines[i]);
      t.has_id[i] = true;
    }
  }
  t.vocab_unique = t.vocab.size();
}

void build_cont_vocab(Tokenizer::Impl& t) {
  const std::string& pre = t.cfg.continuing_subword_prefix;
  t.cont_vocab = tok::VocabMap();
  for (size_t id = 0; id < t.id_to_token.size(); ++id) {
    if (!t.has_id[id]) continue;
    const std::string& s = t.id_to_token[id];
    if (s.size() >= pre.size() && s.compare(0, pre.size(), pre) == 0)
      t.cont_vocab.insert(std::string_view(s).substr(pre.size()), static_cast<int64_t>(id));
  }
}

void load_added_tokens_json(Tokenizer::Impl& t, const fs::path& path) {
  const std::string file = path.string();
  json j = read_json(path);
  if (!j.is_object()) throw invalid_file(file, "expected an object {token: id}");
  std::vector<std::pair<int64_t, std::string>> items;
  for (auto it = j.begin(); it != j.end(); ++it) {
    auto id = io::json_int64(it.value());
    if (!id) throw invalid_file(file, "id of \"" + it.key() + "\" must be an integer, got " + io::json_brief(it.value()));
    items.emplace_back(*id, it.key());
  }
  std::stable_sort(items.begin(), items.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::set<std::string> specials;
  for (const auto& [k, s] : t.cfg.specials) specials.insert(s.content);
  for (const auto& s : t.cfg.additional_special_tokens) specials.insert(s.content);
  for (const auto& [id, token] : items) {
    const int64_t len = static_cast<int64_t>(t.vocab_unique + t.added_encoder.size());
    if (id != len)
      throw invalid_file(file, "non-consecutive added token \"" + token + "\": should have id " + std::to_string(len) +
                                   " but has " + std::to_string(id));
    t.add_tokens({token}, specials.count(token) > 0);
  }
}

void load_tokenizer_json(Tokenizer::Impl& t, const fs::path& path, std::vector<std::pair<std::string, int64_t>>& added) {
  const std::string file = path.string();
  json j = read_json(path);
  if (!j.is_object()) throw invalid_file(file, "expected a JSON object");
  auto mit = j.find("model");
  if (mit == j.end() || !mit->is_object()) throw invalid_file(file, "no \"model\" object");
  const json& m = *mit;
  if (auto ty = m.find("type"); ty != m.end() && !(ty->is_string() && ty->get<std::string>() == "WordPiece"))
    throw unsupported(file + ": model type " + io::json_brief(*ty) + " is not supported (only WordPiece)");
  auto vit = m.find("vocab");
  if (vit == m.end() || !vit->is_object()) throw invalid_file(file, "model has no \"vocab\" object (not a WordPiece model?)");
  const size_t count = vit->size();
  if (count == 0) throw invalid_file(file, "model.vocab is empty");
  int64_t max_id = -1;
  t.vocab.reserve(count);
  for (auto it = vit->begin(); it != vit->end(); ++it) {
    auto id = io::json_int64(it.value());
    if (!id || *id < 0 || *id > static_cast<int64_t>(count) * 4 + 1024)
      throw invalid_file(file, "model.vocab[\"" + it.key() + "\"]: bad id " + io::json_brief(it.value()));
    t.vocab.insert(it.key(), *id);
    max_id = std::max(max_id, *id);
  }
  t.id_to_token.assign(static_cast<size_t>(max_id + 1), std::string());
  t.has_id.assign(static_cast<size_t>(max_id + 1), false);
  for (auto it = vit->begin(); it != vit->end(); ++it) {
    int64_t id = t.vocab.find(it.key());
    t.id_to_token[static_cast<size_t>(id)] = it.key();
    t.has_id[static_cast<size_t>(id)] = true;
  }
  t.vocab_unique = t.vocab.size();
  if (auto u = m.find("unk_token"); u != m.end() && u->is_string()) t.cfg.specials["unk_token"].content = u->get<std::string>();
  if (auto p = m.find("continuing_subword_prefix"); p != m.end() && p->is_string())
    t.cfg.continuing_subword_prefix = p->get<std::string>();
  if (auto x = m.find("max_input_chars_per_word"); x != m.end() && !x->is_null()) {
    auto v = io::json_int64(*x);
    if (!v || *v < 0) throw invalid_file(file, "model.max_input_chars_per_word must be a non-negative integer");
    t.cfg.max_input_chars_per_word = *v;
  }
  // Normalizer.
  if (auto n = j.find("normalizer"); n != j.end()) {
    if (n->is_null()) {
      t.cfg.clean_text = false;
      t.cfg.tokenize_chinese_chars = false;
      t.cfg.do_lower_case = false;
      t.cfg.strip_accents.reset();
    } else {
      if (!n->is_object() || n->value("type", std::string()) != "BertNormalizer")
        throw unsupported(file + ": normalizer " + io::json_brief(*n) + " is not supported (only BertNormalizer)");
      if (auto v = n->find("clean_text"); v != n->end()) t.cfg.clean_text = get_bool(*v, file, "normalizer.clean_text");
      if (auto v = n->find("handle_chinese_chars"); v != n->end())
        t.cfg.tokenize_chinese_chars = get_bool(*v, file, "normalizer.handle_chinese_chars");
      if (auto v = n->find("lowercase"); v != n->end()) t.cfg.do_lower_case = get_bool(*v, file, "normalizer.lowercase");
      if (auto v = n->find("strip_accents"); v != n->end()) {
        if (v->is_null())
          t.cfg.strip_accents.reset();
        else
          t.cfg.strip_accents = get_bool(*v, file, "normalizer.strip_accents");
      }
    }
  }
  if (auto p = j.find("pre_tokenizer"); p != j.end() && !p->is_null()) {
    if (!p->is_object() || p->value("type", std::string()) != "BertPreTokenizer")
      throw unsupported(file + ": pre_tokenizer " + io::json_brief(*p) + " is not supported (only BertPreTokenizer)");
  }
  // Post-processor: which tokens are [CLS] and [SEP].
  if (auto p = j.find("post_processor"); p != j.end() && p->is_object()) {
    const std::string type = p->value("type", std::string());
    if (type == "BertProcessing") {
      for (const char* k : {"cls", "sep"}) {
        auto e = p->find(k);
        if (e != p->end() && e->is_array() && !e->empty() && (*e)[0].is_string())
          t.cfg.specials[std::string(k) + "_token"].content = (*e)[0].get<std::string>();
      }
    } else if (type == "TemplateProcessing") {
      auto single = p->find("single");
      std::vector<std::string> specials;
      if (single != p->end() && single->is_array())
        for (const auto& e : *single)
          if (e.is_object() && e.contains("SpecialToken") && e["SpecialToken"].contains("id") && e["SpecialToken"]["id"].is_string())
            specials.push_back(e["SpecialToken"]["id"].get<std::string>());
      if (specials.size() >= 1) t.cfg.specials["cls_token"].content = specials.front();
      if (specials.size() >= 2) t.cfg.specials["sep_token"].content = specials.back();
    }
  }
  // Added tokens: special ones become special tokens (plain strings, as the slow tokenizer sees
  // them), the others added tokens with their given ids.
  if (auto a = j.find("added_tokens"); a != j.end() && a->is_array()) {
    std::set<std::string> named;
    for (const auto& [k, s] : t.cfg.specials) named.insert(s.content);
    for (const auto& e : *a) {
      if (!e.is_object()) throw invalid_file(file, "added_tokens entries must be objects");
      std::string content = get_string(e.value("content", json()), file, "added_tokens[].content");
      auto id = io::json_int64(e.value("id", json()));
      if (!id || *id < 0) throw invalid_file(file, "added token \"" + content + "\" has no valid id");
      bool special = e.value("special", false);
      if (special) {
        if (named.count(content)) continue;
        if (content == "[PAD]") {
          t.cfg.specials["pad_token"].content = content;
        } else if (content == "[MASK]") {
          t.cfg.specials["mask_token"].content = content;
        } else {
          t.cfg.additional_special_tokens.push_back({content, false, false, false});
        }
      }
      if (t.vocab.find(content) < 0) added.emplace_back(content, *id);
    }
  }
}

}  // namespace

// ------------------------------------------------------------------ Impl building

std::optional<int64_t> Tokenizer::Impl::find_token(std::string_view token) const {
  if (!added_encoder.empty()) {
    auto it = added_encoder.find(std::string(token));
    if (it != added_encoder.end()) return it->second;
  }
  int64_t id = vocab.find(token);
  if (id >= 0) return id;
  return std::nullopt;
}

int64_t Tokenizer::Impl::convert_token(std::string_view token) const {
  if (auto id = find_token(token)) return *id;
  int64_t u = vocab.find(unk_token);
  return u >= 0 ? u : unk_id;
}

std::string Tokenizer::Impl::id_to_token_str(int64_t id) const {
  if (auto it = added_decoder.find(id); it != added_decoder.end()) return it->second;
  if (id >= 0 && static_cast<size_t>(id) < id_to_token.size() && has_id[static_cast<size_t>(id)])
    return id_to_token[static_cast<size_t>(id)];
  return unk_token;
}

// PreTrainedTokenizer._add_tokens.
void Tokenizer::Impl::add_tokens(const std::vector<std::string>& tokens, bool special) {
  std::vector<std::string> to_add;
  std::unordered_set<std::string> seen;
  const auto unk_lookup = [&](std::string_view s) -> std::optional<int64_t> {
    if (auto id = find_token(s)) return id;
    int64_t u = vocab.find(unk_token);
    if (u >= 0) return u;
    return std::nullopt;
  };
  for (std::string token : tokens) {
    if (!special && cfg.do_lower_case) token = tok::u32_to_utf8(tok::py_lower(tok::utf8_to_u32(token)));
    if (token != unk_token && unk_lookup(token) == unk_lookup(unk_token) && seen.insert(token).second)
      to_add.push_back(token);
  }
  const int64_t base = static_cast<int64_t>(vocab_unique + added_encoder.size());
  for (size_t i = 0; i < to_add.size(); ++i) {
    added_encoder[to_add[i]] = base + static_cast<int64_t>(i);
    added_decoder[base + static_cast<int64_t>(i)] = to_add[i];
  }
  for (const auto& s : special ? tokens : to_add) unique_no_split.insert(s);
}

void Tokenizer::Impl::finalize() {
  tok::init_pipeline_tables();
  strip_accents_on = cfg.do_lower_case ? cfg.strip_accents.value_or(true) : cfg.strip_accents.value_or(false);
  model_max_unbounded = !cfg.model_max_length.has_value();
  model_max = cfg.model_max_length.value_or(INT64_MAX);
  unk_token = cfg.specials.count("unk_token") ? cfg.specials["unk_token"].content : std::string("[UNK]");
  // all_special_tokens_extended: attribute order, then additional, de-duplicated.
  all_special_tokens.clear();
  all_special_extended.clear();
  std::unordered_map<std::string, size_t> special_index;  // content -> index in all_special_*
  auto push = [&](const tok::SpecialToken& s) {
    if (!special_index.emplace(s.content, all_special_tokens.size()).second) return;
    all_special_tokens.push_back(s.content);
    all_special_extended.push_back(s);
  };
  for (const char* key : kSpecialAttrs)
    if (auto it = cfg.specials.find(key); it != cfg.specials.end() && !it->second.content.empty()) push(it->second);
  for (const auto& s : cfg.additional_special_tokens)
    if (!s.content.empty()) push(s);
  add_tokens(all_special_tokens, true);  // sanitize_special_tokens

  unk_id = convert_token(unk_token);
  all_special_ids.clear();
  for (const auto& s : all_special_tokens) all_special_ids.push_back(convert_token(s));
  auto special_id = [&](const char* key, std::optional<int64_t>& id, std::string& tokstr) {
    auto it = cfg.specials.find(key);
    if (it == cfg.specials.end() || it->second.content.empty()) return;
    tokstr = it->second.content;
    id = convert_token(tokstr);
  };
  special_id("cls_token", cls_id, cls_token);
  special_id("sep_token", sep_id, sep_token);
  special_id("pad_token", pad_id, pad_token);
  special_id("mask_token", mask_id, mask_token);

  build_cont_vocab(*this);

  // Matching structures.
  trie = tok::Trie();
  no_split = tok::U32Set();
  no_split_strip.clear();
  no_split_ids.clear();
  for (const auto& s : unique_no_split) {
    const auto special_it = special_index.find(s);
    const bool is_special = special_it != special_index.end();
    std::u32string u = tok::utf8_to_u32(s);
    trie.add(cfg.do_lower_case && !is_special ? tok::py_lower(u) : u);
    size_t before = no_split.items.size();
    no_split.add(s);
    if (no_split.items.size() == before) continue;
    std::pair<bool, bool> strip{true, true};
    if (is_special) {
      const auto& e = all_special_extended[special_it->second];
      if (e.added_token) strip = {e.lstrip, e.rstrip};
    }
    no_split_strip.push_back(strip);
    no_split_ids.push_back(convert_token(s));
  }
  protect_patterns.clear();
  protect_first.clear();
  std::fill(std::begin(protect_ascii), std::end(protect_ascii), false);
  protect_nonascii = false;
  std::unordered_set<char32_t> firsts;
  auto protect = [&](const std::string& s) {
    if (s.empty()) return;
    protect_patterns.push_back(tok::utf8_to_u32(s));
    char32_t f = protect_patterns.back()[0];
    if (firsts.insert(f).second) protect_first.push_back(f);
    (f < 128 ? protect_ascii[f] : protect_nonascii) = true;
  };
  for (const auto& s : unique_no_split) protect(s);
  for (const auto& s : all_special_tokens) protect(s);
  never_split_all = tok::U32Set();
  never_split_user = tok::U32Set();
  never_split_user_ids.clear();
  for (const auto& s : cfg.never_split) {
    never_split_all.add(s);
    size_t before = never_split_user.items.size();
    never_split_user.add(s);
    if (never_split_user.items.size() != before) never_split_user_ids.push_back(convert_token(s));
  }
  for (const auto& s : all_special_tokens) never_split_all.add(s);
}

// ------------------------------------------------------------------ loading

Tokenizer Tokenizer::from_vocab(const fs::path& vocab_txt, const TokenizerOptions& options) {
  auto impl = std::make_shared<Impl>();
  impl->cfg = default_config();
  apply_options(impl->cfg, options);
  load_vocab_txt(*impl, vocab_txt);
  impl->finalize();
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

namespace {

// The SentencePiece model of an XLM-R / CamemBERT / ALBERT / DeBERTa-v2 / T5 / XLNet folder without tokenizer.json.
fs::path sentencepiece_file(const fs::path& dir) {
  std::error_code ec;
  for (const char* name : io::kSentencePieceFiles)
    if (fs::exists(dir / name, ec)) return dir / name;
  return {};
}

// What AutoTokenizer does with such a folder: the tokenizer class from tokenizer_config.json's
// tokenizer_class (else config.json's model_type), its init arguments from the config files.
void load_sentencepiece_dir(Tokenizer::Impl& t, const fs::path& dir, const fs::path& spm) {
  std::error_code ec;
  const fs::path cfg_json = dir / "tokenizer_config.json", map_json = dir / "special_tokens_map.json", model_cfg = dir / "config.json";
  json cfg = fs::exists(cfg_json, ec) ? read_json(cfg_json) : json::object();
  if (!cfg.is_object()) throw invalid_file(cfg_json.string(), "expected a JSON object");
  std::optional<sp::Family> family;
  std::string named;
  if (auto it = cfg.find("tokenizer_class"); it != cfg.end() && !it->is_null()) {
    named = get_string(*it, cfg_json.string(), "tokenizer_class");
    family = sp::family_of(named);
  } else if (fs::exists(model_cfg, ec)) {
    json mc = read_json(model_cfg);
    if (auto m = mc.find("model_type"); mc.is_object() && m != mc.end() && m->is_string()) {
      named = m->get<std::string>();
      family = sp::family_of(named);
    }
  }
  if (!family)
    throw unsupported(spm.string() + ": SentencePiece folders are read for XLMRobertaTokenizer, CamembertTokenizer, " +
                      "AlbertTokenizer, DebertaV2Tokenizer, T5Tokenizer and XLNetTokenizer (tokenizer_config.json tokenizer_class " +
                      "or config.json model_type), got " +
                      (named.empty() ? std::string("neither") : "\"" + named + "\""));
  sp::Options o = sp::default_options(*family);
  auto apply = [&](const json& j, const std::string& file) {
    if (!j.is_object()) throw invalid_file(file, "expected a JSON object");
    for (int i = 0; i < 7; ++i) {
      auto it = j.find(sp::kSpecialAttrs[i]);
      if (it == j.end()) continue;
      auto s = parse_special(*it, file, sp::kSpecialAttrs[i]);
      if (!s) continue;
      o.specials[i].content = s->content;
      if (s->added_token) {
        o.specials[i].lstrip = s->lstrip;
        o.specials[i].rstrip = s->rstrip;
      }
    }
  };
  // Extra special tokens, as transformers 5's from_pretrained gathers them: tokenizer_config.json's
  // extra_special_tokens (when a non-empty list) else its additional_special_tokens, then
  // special_tokens_map.json's extra_special_tokens appended when new (its additional_special_tokens
  // are overwritten by the SentencePiece extractor's list, so never used).
  auto it_is_list = [](const json& j) {
    auto it = j.find("extra_special_tokens");
    return it == j.end() || !it->is_object();
  };
  auto listed = [&](const json& e, const std::string& file, const std::string& key) -> std::optional<sp::Options::Special> {
    auto s = parse_special(e, file, key);
    if (!s) return std::nullopt;
    sp::Options::Special out{s->content, s->lstrip, s->rstrip, true, s->added_token};
    if (e.is_object()) {  // an AddedToken's other flags
      if (auto f = e.find("single_word"); f != e.end()) out.single_word = get_bool(*f, file, "single_word");
      if (auto f = e.find("normalized"); f != e.end()) out.normalized = get_bool(*f, file, "normalized");
    }
    return out;
  };
  auto extra_list = [&](const json& j, const char* key, const std::string& file) {
    std::vector<sp::Options::Special> out;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) throw invalid_file(file, std::string("\"") + key + "\" must be a list, got " + io::json_brief(*it));
    for (const auto& e : *it)
      if (auto s = listed(e, file, key)) out.push_back(std::move(*s));
    return out;
  };
  // extra_special_tokens as a (non-empty) dict: named model-specific tokens (transformers'
  // model_specific_special_tokens); additional_special_tokens is then not read.
  auto named_dict = [&](const json& j, const std::string& file) {
    // In the file's key order, as Python's dict has it (json sorts its keys).
    const auto ordered = nlohmann::ordered_json::parse(io::read_small_file(file, kMaxJsonFileBytes));
    for (const auto& [name, unused] : ordered["extra_special_tokens"].items()) {
      (void)unused;
      auto t = listed(j[name], file, "extra_special_tokens." + name);
      if (!t) continue;
      bool seen = false;
      for (const auto& n : o.named_extra) seen = seen || n.content == t->content;
      if (!seen) o.named_extra.push_back(std::move(*t));
    }
  };
  if (auto it = cfg.find("extra_special_tokens"); it != cfg.end() && it->is_object()) {
    named_dict(*it, cfg_json.string());
  } else {
    o.additional = extra_list(cfg, "extra_special_tokens", cfg_json.string());
  }
  if (o.additional.empty() && o.named_extra.empty())
    o.additional = extra_list(cfg, "additional_special_tokens", cfg_json.string());
  // added_tokens_decoder: its tokens, in id order; with it transformers reads no special_tokens_map.json.
  const auto decoder = cfg.find("added_tokens_decoder");
  const bool has_decoder = decoder != cfg.end() && !decoder->is_null();
  if (has_decoder) {
    const std::string f = cfg_json.string();
    if (!decoder->is_object()) throw invalid_file(f, "\"added_tokens_decoder\" must be an object (id -> AddedToken), got " + io::json_brief(*decoder));
    std::vector<std::pair<int64_t, sp::Options::Added>> rows;
    for (const auto& [key, v] : decoder->items()) {
      const std::string where = "added_tokens_decoder." + key;
      int64_t id = 0;
      size_t used = 0;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != key.size() || key.empty()) throw invalid_file(f, "\"" + where + "\": the key must be an integer id");
      if (!v.is_object() || !v.contains("content"))
        throw invalid_file(f, "\"" + where + "\" must be an AddedToken object with a \"content\", got " + io::json_brief(v));
      sp::Options::Added a;
      a.content = get_string(v["content"], f, (where + ".content").c_str());
      const auto& entry = v;  // a structured binding cannot be captured before C++20 in clang < 16
      auto flag = [&](const char* name, bool& dst) {
        if (auto it = entry.find(name); it != entry.end()) dst = get_bool(*it, f, (where + "." + name).c_str());
      };
      flag("special", a.special);
      a.normalized = !a.special;  // AddedToken's default
      flag("lstrip", a.lstrip);
      flag("rstrip", a.rstrip);
      flag("single_word", a.single_word);
      flag("normalized", a.normalized);
      rows.emplace_back(id, std::move(a));
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto& x, const auto& y) { return x.first < y.first; });
    for (auto& r : rows) o.added_decoder.push_back(std::move(r.second));
  }
  apply(cfg, cfg_json.string());
  if (fs::exists(map_json, ec) && !has_decoder) {
    const json map = read_json(map_json);
    apply(map, map_json.string());
    if (auto it = map.find("extra_special_tokens"); it != map.end() && it->is_object()) named_dict(*it, map_json.string());
    for (auto& s : it_is_list(map) ? extra_list(map, "extra_special_tokens", map_json.string()) : std::vector<sp::Options::Special>{}) {
      bool seen = false;
      for (const auto& a : o.additional) seen = seen || a.content == s.content;
      if (!seen) o.additional.push_back(std::move(s));
    }
  }
  auto flag = [&](const char* key, bool& dst) {
    if (auto it = cfg.find(key); it != cfg.end() && !it->is_null()) dst = get_bool(*it, cfg_json.string(), key);
  };
  flag("add_prefix_space", o.add_prefix_space);
  flag("do_lower_case", o.do_lower_case);
  flag("keep_accents", o.keep_accents);
  flag("split_by_punct", o.split_by_punct);
  if (auto it = cfg.find("extra_ids"); it != cfg.end() && !it->is_null()) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > 1000000)
      throw invalid_file(cfg_json.string(), "extra_ids must be an integer in 0..1000000, got " + it->dump());
    o.extra_ids = it->get<int64_t>();
  }
  hf::load_sentencepiece(t, spm.string(), *family, o);
  if (*family == sp::Family::XLNet) t.cfg.padding_left = true;  // XLNetTokenizer.padding_side; tokenizer_config.json may override
  t.cfg.specials.clear();
  for (int i = 0; i < 7; ++i) t.cfg.specials[sp::kSpecialAttrs[i]] = {o.specials[i].content, false, o.specials[i].lstrip, o.specials[i].rstrip};
}

}  // namespace

Tokenizer Tokenizer::from_dir(const fs::path& dir, const TokenizerOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw not_found(dir.string() + ": not a directory");
  auto impl = std::make_shared<Impl>();
  impl->cfg = default_config();
  const fs::path vocab_txt = dir / "vocab.txt", tok_json = dir / "tokenizer.json", cfg_json = dir / "tokenizer_config.json",
                 map_json = dir / "special_tokens_map.json", added_json = dir / "added_tokens.json";
  std::vector<std::pair<std::string, int64_t>> json_added;
  const bool has_json = fs::exists(tok_json, ec);
  const fs::path spm = has_json ? fs::path() : sentencepiece_file(dir);
  if (options.backend == TokenizerBackend::Fast && !has_json && spm.empty())
    throw not_found(dir.string() +
                    ": no tokenizer.json, sentencepiece.bpe.model, spiece.model or spm.model (the fast backend reads only those)");
  if ((has_json || !spm.empty()) && options.backend != TokenizerBackend::Slow) {
    if (has_json)
      hf::load_fast(*impl, tok_json.string());
    else
      load_sentencepiece_dir(*impl, dir, spm);
    if (fs::exists(cfg_json, ec)) apply_config_json(impl->cfg, read_json(cfg_json), cfg_json.string(), false);
    if (fs::exists(map_json, ec)) apply_config_json(impl->cfg, read_json(map_json), map_json.string(), true);
    apply_options(impl->cfg, options);
    if (fs::exists(cfg_json, ec)) {
      json c = read_json(cfg_json);
      if (auto it = c.find("clean_up_tokenization_spaces"); it != c.end() && it->is_boolean()) impl->fast_clean_up = it->get<bool>();
    }
    hf::finish_fast(*impl);
    Tokenizer t;
    t.impl_ = std::move(impl);
    return t;
  }
  const bool use_vocab_txt = fs::exists(vocab_txt, ec);
  if (!use_vocab_txt && !fs::exists(tok_json, ec))
    throw not_found(dir.string() + ": no vocab.txt or tokenizer.json (not a BERT WordPiece tokenizer folder?)");
  if (!use_vocab_txt) load_tokenizer_json(*impl, tok_json, json_added);
  if (fs::exists(cfg_json, ec)) apply_config_json(impl->cfg, read_json(cfg_json), cfg_json.string(), false);
  apply_options(impl->cfg, options);
  if (fs::exists(map_json, ec)) apply_config_json(impl->cfg, read_json(map_json), map_json.string(), true);
  if (use_vocab_txt) {
    load_vocab_txt(*impl, vocab_txt);
    if (fs::exists(added_json, ec)) load_added_tokens_json(*impl, added_json);
  } else {
    std::stable_sort(json_added.begin(), json_added.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
    for (const auto& [content, id] : json_added) {
      std::string token = content;
      if (impl->added_encoder.count(token)) continue;
      impl->added_encoder[token] = id;
      impl->added_decoder[id] = token;
      impl->unique_no_split.insert(token);
    }
  }
  impl->finalize();
  Tokenizer t;
  t.impl_ = std::move(impl);
  return t;
}

// ------------------------------------------------------------------ encoding

namespace {
const Tokenizer::Impl& I(const std::shared_ptr<const Tokenizer::Impl>& p) {
  if (!p) throw invalid_argument("Tokenizer used before being loaded (use Tokenizer::from_dir / from_vocab)");
  return *p;
}
}  // namespace

namespace {

struct Seq {
  std::vector<tok::Piece> pieces;
  std::vector<uint32_t> byte_pos;
};

struct Resolved {
  Truncation trunc;
  Padding pad;
  std::optional<int64_t> max_length;
};

// _get_padding_truncation_strategies.
Resolved resolve(const Tokenizer::Impl& t, const EncodeOptions& o) {
  Resolved r{o.truncation, o.padding, o.max_length};
  if (r.max_length && *r.max_length < 0) throw invalid_argument("max_length must be >= 0, got " + std::to_string(*r.max_length));
  if (r.max_length && r.pad == Padding::None && r.trunc == Truncation::None) r.trunc = Truncation::LongestFirst;
  if (!r.max_length) {
    if (r.pad == Padding::MaxLength) {
      if (t.model_max_unbounded)
        r.pad = Padding::None;
      else
        r.max_length = t.model_max;
    }
    if (r.trunc != Truncation::None) {
      if (t.model_max_unbounded)
        r.trunc = Truncation::None;
      else
        r.max_length = t.model_max;
    }
  }
  if (r.pad != Padding::None && !t.pad_id) throw invalid_argument("padding requested but the tokenizer has no pad token");
  return r;
}

template <class T>
void drop(std::vector<T>& v, size_t k, bool left) {
  if (left)
    v.erase(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k));
  else
    v.resize(v.size() - k);
}

// truncate_sequences (stride 0).
void truncate(std::vector<tok::Piece>& a, std::vector<tok::Piece>* b, int64_t remove, Truncation strat, bool left) {
  if (remove <= 0) return;
  const size_t n = static_cast<size_t>(remove);
  if (strat == Truncation::OnlyFirst || (strat == Truncation::LongestFirst && !b)) {
    if (a.size() > n) drop(a, n, left);  // else transformers logs an error and leaves it
  } else if (strat == Truncation::LongestFirst) {
    for (size_t i = 0; i < n; ++i) {
      if (a.size() > b->size()) {
        if (!a.empty()) drop(a, 1, left);
      } else if (!b->empty()) {
        drop(*b, 1, left);
      }
    }
  } else if (strat == Truncation::OnlySecond && b) {
    if (b->size() > n) drop(*b, n, left);
  }
}

void append_special(const Tokenizer::Impl&, Encoding& e, int64_t id, const std::string& tok, int type) {
  e.input_ids.push_back(id);
  e.token_type_ids.push_back(type);
  e.attention_mask.push_back(1);
  e.tokens.push_back(tok);
  e.offsets.emplace_back(0, 0);
  e.byte_offsets.emplace_back(0, 0);
  e.sequence_ids.push_back(-1);
}

void append_seq(Encoding& e, const std::vector<tok::Piece>& p, const std::vector<uint32_t>& bp, int type, int seq) {
  for (const auto& x : p) {
    e.input_ids.push_back(x.id);
    e.token_type_ids.push_back(type);
    e.attention_mask.push_back(1);
    e.tokens.emplace_back(x.token);
    e.offsets.emplace_back(x.begin, x.end);
    e.byte_offsets.emplace_back(bp[static_cast<size_t>(x.begin)], bp[static_cast<size_t>(x.end)]);
    e.sequence_ids.push_back(seq);
  }
}

Encoding build(const Tokenizer::Impl& t, Seq& a, Seq* b, const EncodeOptions& o, const Resolved& r) {
  if (o.add_special_tokens && (!t.cls_id || !t.sep_id))
    throw invalid_argument("add_special_tokens needs a cls_token and a sep_token, this tokenizer lacks one");
  const int64_t specials = o.add_special_tokens ? (b ? 3 : 2) : 0;
  const int64_t total = static_cast<int64_t>(a.pieces.size() + (b ? b->pieces.size() : 0)) + specials;
  if (r.trunc != Truncation::None && r.max_length && *r.max_length > 0 && total > *r.max_length)
    truncate(a.pieces, b ? &b->pieces : nullptr, total - *r.max_length, r.trunc, o.truncation_side == TruncationSide::Left);
  Encoding e;
  const size_t n = a.pieces.size() + (b ? b->pieces.size() : 0) + static_cast<size_t>(specials);
  e.input_ids.reserve(n);
  e.token_type_ids.reserve(n);
  e.attention_mask.reserve(n);
  e.tokens.reserve(n);
  e.offsets.reserve(n);
  e.byte_offsets.reserve(n);
  e.sequence_ids.reserve(n);
  if (o.add_special_tokens) append_special(t, e, *t.cls_id, t.cls_token, 0);
  append_seq(e, a.pieces, a.byte_pos, 0, 0);
  if (o.add_special_tokens) append_special(t, e, *t.sep_id, t.sep_token, 0);
  if (b) {
    const int type = o.add_special_tokens ? 1 : 0;
    append_seq(e, b->pieces, b->byte_pos, type, 1);
    if (o.add_special_tokens) append_special(t, e, *t.sep_id, t.sep_token, 1);
  }
  return e;
}

void pad_to(const Tokenizer::Impl& t, Encoding& e, int64_t len, const EncodeOptions& o) {
  const bool left = o.padding_side ? *o.padding_side == TruncationSide::Left : t.cfg.padding_left;
  if (static_cast<int64_t>(e.size()) >= len) return;
  const size_t k = static_cast<size_t>(len) - e.size();
  const int64_t id = *t.pad_id;
  auto ins = [&](auto& v, const auto& val) {
    if (left)
      v.insert(v.begin(), k, val);
    else
      v.insert(v.end(), k, val);
  };
  ins(e.input_ids, id);
  ins(e.token_type_ids, int64_t(0));
  ins(e.attention_mask, int64_t(0));
  ins(e.tokens, t.pad_token);
  ins(e.offsets, std::pair<int64_t, int64_t>(0, 0));
  ins(e.byte_offsets, std::pair<int64_t, int64_t>(0, 0));
  ins(e.sequence_ids, -1);
}

Encoding encode_one(const Tokenizer::Impl& t, std::string_view text, const std::string_view* pair, const EncodeOptions& o,
                    const Resolved& r, bool pad_single) {
  Seq a, b;
  t.run(text, a.pieces, &a.byte_pos);
  if (pair) t.run(*pair, b.pieces, &b.byte_pos);
  Encoding e = build(t, a, pair ? &b : nullptr, o, r);
  if (pad_single && r.pad == Padding::MaxLength && r.max_length) pad_to(t, e, *r.max_length, o);
  return e;
}

template <class F>
void parallel_for(size_t n, int threads, F&& f) {
  size_t nt = threads > 0 ? static_cast<size_t>(threads) : std::max<size_t>(1, std::thread::hardware_concurrency());
  nt = std::min(nt, n);
  if (nt <= 1) {
    for (size_t i = 0; i < n; ++i) f(i);
    return;
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> pool;
  std::exception_ptr err;
  std::mutex mu;
  auto work = [&] {
    try {
      for (;;) {
        size_t i = next.fetch_add(1);
        if (i >= n) break;
        f(i);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lk(mu);
      if (!err) err = std::current_exception();
      next = n;
    }
  };
  for (size_t k = 1; k < nt; ++k) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  if (err) std::rethrow_exception(err);
}

void pad_batch(const Tokenizer::Impl& t, std::vector<Encoding>& out, const Resolved& r, const EncodeOptions& o) {
  if (r.pad == Padding::None) return;
  int64_t len = 0;
  if (r.pad == Padding::Longest) {
    for (const auto& e : out) len = std::max<int64_t>(len, static_cast<int64_t>(e.size()));
  } else if (r.max_length) {
    len = *r.max_length;
  } else {
    return;
  }
  for (auto& e : out) pad_to(t, e, len, o);
}

}  // namespace

namespace {
std::function<void(size_t, const std::function<void(size_t)>&)> runner(int threads) {
  return [threads](size_t n, const std::function<void(size_t)>& f) { parallel_for(n, threads, f); };
}
}  // namespace

std::vector<std::string> Tokenizer::tokenize(std::string_view text) const {
  if (I(impl_).fast) {
    EncodeOptions o;
    o.add_special_tokens = false;
    std::string_view a[1] = {text};
    return std::move(hf::encode_fast(*impl_, a, {}, o, false, runner(1))[0].tokens);
  }
  std::vector<tok::Piece> pieces;
  I(impl_).run(text, pieces, nullptr);
  std::vector<std::string> out;
  out.reserve(pieces.size());
  for (const auto& p : pieces) out.emplace_back(p.token);
  return out;
}

Encoding Tokenizer::encode(std::string_view text, const EncodeOptions& options) const {
  if (I(impl_).fast) {
    std::string_view a[1] = {text};
    return std::move(hf::encode_fast(*impl_, a, {}, options, false, runner(1))[0]);
  }
  Resolved r = resolve(I(impl_), options);
  return encode_one(I(impl_), text, nullptr, options, r, true);
}

Encoding Tokenizer::encode_pair(std::string_view text, std::string_view text_pair, const EncodeOptions& options) const {
  if (I(impl_).fast) {
    std::string_view a[1] = {text}, b[1] = {text_pair};
    return std::move(hf::encode_fast(*impl_, a, b, options, false, runner(1))[0]);
  }
  Resolved r = resolve(I(impl_), options);
  return encode_one(I(impl_), text, &text_pair, options, r, true);
}

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string> texts, const EncodeOptions& options,
                                              int threads) const {
  if (I(impl_).fast) {
    std::vector<std::string_view> a(texts.begin(), texts.end());
    return hf::encode_fast(*impl_, a, {}, options, true, runner(threads));
  }
  Resolved r = resolve(I(impl_), options);
  std::vector<Encoding> out(texts.size());
  parallel_for(texts.size(), threads, [&](size_t i) { out[i] = encode_one(I(impl_), texts[i], nullptr, options, r, false); });
  pad_batch(I(impl_), out, r, options);
  return out;
}

std::vector<Encoding> Tokenizer::encode_pair_batch(std::span<const std::pair<std::string, std::string>> pairs,
                                                   const EncodeOptions& options, int threads) const {
  if (I(impl_).fast) {
    std::vector<std::string_view> a, b;
    for (const auto& [x, y] : pairs) {
      a.push_back(x);
      b.push_back(y);
    }
    return hf::encode_fast(*impl_, a, b, options, true, runner(threads));
  }
  Resolved r = resolve(I(impl_), options);
  std::vector<Encoding> out(pairs.size());
  parallel_for(pairs.size(), threads, [&](size_t i) {
    std::string_view b = pairs[i].second;
    out[i] = encode_one(I(impl_), pairs[i].first, &b, options, r, false);
  });
  pad_batch(I(impl_), out, r, options);
  return out;
}

// ------------------------------------------------------------------ decoding

std::vector<std::string> Tokenizer::convert_ids_to_tokens(std::span<const int64_t> ids) const {
  if (I(impl_).fast) return hf::ids_to_tokens_fast(*impl_, ids);
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (int64_t id : ids) out.push_back(I(impl_).id_to_token_str(id));
  return out;
}

namespace {
std::string replace_all(std::string s, std::string_view from, std::string_view to) {
  if (from.empty()) return s;
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  for (;;) {
    size_t k = s.find(from, i);
    if (k == std::string::npos) break;
    out.append(s, i, k - i);
    out.append(to);
    i = k + from.size();
  }
  out.append(s, i, std::string::npos);
  return out;
}

// str.strip(): Python whitespace at both ends.
std::string py_strip(const std::string& s) {
  std::u32string u = tok::utf8_to_u32(s);
  size_t a = 0, b = u.size();
  while (a < b && (tok::flags(u[a]) & tok::kPySpace)) ++a;
  while (b > a && (tok::flags(u[b - 1]) & tok::kPySpace)) --b;
  return tok::u32_to_utf8(std::u32string_view(u).substr(a, b - a));
}
}  // namespace

std::string Tokenizer::convert_tokens_to_string(std::span<const std::string> tokens) const {
  if (I(impl_).fast) return hf::tokens_to_string_fast(*impl_, tokens);
  std::string joined;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i) joined.push_back(' ');
    joined += tokens[i];
  }
  return py_strip(replace_all(joined, " ##", ""));
}

std::string Tokenizer::decode(std::span<const int64_t> ids, bool skip_special_tokens, bool clean_up_tokenization_spaces) const {
  if (I(impl_).fast) {
    // The library's decode; transformers' clean-up only when tokenizer_config.json asks for it.
    std::string text = hf::decode_fast(*impl_, ids, skip_special_tokens);
    if (!clean_up_tokenization_spaces || !impl_->fast_clean_up) return text;
    for (auto [a, b] : {std::pair<const char*, const char*>{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
                        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}})
      text = replace_all(std::move(text), a, b);
    return text;
  }
  std::vector<std::string> sub_texts, current;
  for (int64_t id : ids) {
    if (skip_special_tokens &&
        std::find(I(impl_).all_special_ids.begin(), I(impl_).all_special_ids.end(), id) != I(impl_).all_special_ids.end())
      continue;
    std::string tokstr = I(impl_).id_to_token_str(id);
    if (I(impl_).added_encoder.count(tokstr)) {
      if (!current.empty()) sub_texts.push_back(convert_tokens_to_string(current));
      current.clear();
      sub_texts.push_back(tokstr);
    } else {
      current.push_back(std::move(tokstr));
    }
  }
  if (!current.empty()) sub_texts.push_back(convert_tokens_to_string(current));
  std::string text;
  for (size_t i = 0; i < sub_texts.size(); ++i) {
    if (i) text.push_back(' ');
    text += sub_texts[i];
  }
  if (!clean_up_tokenization_spaces) return text;
  for (auto [a, b] : {std::pair<const char*, const char*>{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
                      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}})
    text = replace_all(std::move(text), a, b);
  return text;
}

// ------------------------------------------------------------------ accessors

int64_t Tokenizer::token_to_id(std::string_view token) const {
  if (I(impl_).fast) return hf::find_token_fast(*impl_, token).value_or(impl_->unk_id);
  return I(impl_).convert_token(token);
}
std::optional<int64_t> Tokenizer::find_token(std::string_view token) const {
  if (I(impl_).fast) return hf::find_token_fast(*impl_, token);
  return I(impl_).find_token(token);
}
size_t Tokenizer::vocab_size() const {
  if (I(impl_).fast) return hf::vocab_size_fast(*impl_);
  return I(impl_).vocab_unique + I(impl_).added_encoder.size();
}
bool Tokenizer::is_fast() const { return I(impl_).fast != nullptr; }
TruncationSide Tokenizer::padding_side() const { return I(impl_).cfg.padding_left ? TruncationSide::Left : TruncationSide::Right; }
const std::string& Tokenizer::converted_tokenizer_json() const { return I(impl_).converted_json; }
int64_t Tokenizer::model_max_length() const { return I(impl_).model_max; }
static int64_t need(const std::optional<int64_t>& id, const char* what) {
  if (!id) throw invalid_argument(std::string("this tokenizer has no ") + what);
  return *id;
}
int64_t Tokenizer::cls_token_id() const { return need(I(impl_).cls_id, "cls_token"); }
int64_t Tokenizer::sep_token_id() const { return need(I(impl_).sep_id, "sep_token"); }
int64_t Tokenizer::pad_token_id() const { return need(I(impl_).pad_id, "pad_token"); }
int64_t Tokenizer::mask_token_id() const { return need(I(impl_).mask_id, "mask_token"); }
int64_t Tokenizer::unk_token_id() const { return I(impl_).unk_id; }
const std::string& Tokenizer::mask_token() const { return I(impl_).mask_token; }
bool Tokenizer::is_special_id(int64_t id) const {
  return std::find(I(impl_).all_special_ids.begin(), I(impl_).all_special_ids.end(), id) != I(impl_).all_special_ids.end();
}

}  // namespace bertcpp
