// SentencePiece ModelProto reader and its conversion to the pipeline transformers builds
// (transformers 5.x: SentencePieceExtractor + <Family>Converter.convert_from_spm + the tokenizer
// class's __init__ + the special tokens its base class adds).
#include "tokenizer/sp_model.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "bertcpp/error.h"

namespace bertcpp::sp {

namespace {

// Protobuf wire format over a bounded byte range; every read checks the remaining length.
class Reader {
 public:
  Reader(std::string_view b, size_t base, const std::string& file, const char* msg)
      : b_(b), base_(base), file_(file), msg_(msg) {}
  bool done() const { return pos_ >= b_.size(); }
  size_t offset() const { return base_ + pos_; }

  uint64_t varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= b_.size()) fail("truncated varint");
      const auto c = static_cast<unsigned char>(b_[pos_++]);
      v |= static_cast<uint64_t>(c & 0x7F) << shift;
      if (!(c & 0x80)) return v;
    }
    fail("varint longer than 10 bytes");
  }
  // (field number, wire type)
  std::pair<uint32_t, int> key() {
    const uint64_t k = varint();
    if ((k >> 3) == 0 || (k >> 3) > 0x1FFFFFFF) fail("field number " + std::to_string(k >> 3) + " out of range");
    return {static_cast<uint32_t>(k >> 3), static_cast<int>(k & 7)};
  }
  std::string_view bytes(size_t* start = nullptr) {
    const uint64_t n = varint();
    if (n > b_.size() - pos_)
      fail("length " + std::to_string(n) + " exceeds the " + std::to_string(b_.size() - pos_) + " bytes left");
    if (start) *start = base_ + pos_;
    std::string_view s = b_.substr(pos_, static_cast<size_t>(n));
    pos_ += static_cast<size_t>(n);
    return s;
  }
  float fixed32_float() {
    if (b_.size() - pos_ < 4) fail("truncated 32-bit field");
    uint32_t u = 0;
    for (int i = 0; i < 4; ++i) u |= static_cast<uint32_t>(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += 4;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
  void skip(int wire) {
    switch (wire) {
      case 0: varint(); return;
      case 1:
        if (b_.size() - pos_ < 8) fail("truncated 64-bit field");
        pos_ += 8;
        return;
      case 2: bytes(); return;
      case 5:
        if (b_.size() - pos_ < 4) fail("truncated 32-bit field");
        pos_ += 4;
        return;
      default: fail("unsupported wire type " + std::to_string(wire));
    }
  }
  void expect(int wire, int want, uint32_t field) {
    if (wire != want)
      fail("field " + std::to_string(field) + " has wire type " + std::to_string(wire) + ", expected " + std::to_string(want));
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw invalid_file(file_, std::string("not a SentencePiece model: ") + msg_ + " at byte " + std::to_string(offset()) + ": " + what);
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
  size_t base_;
  const std::string& file_;
  const char* msg_;
};

int32_t as_int32(uint64_t v) { return static_cast<int32_t>(static_cast<uint32_t>(v)); }  // proto int32 (negative = 10-byte varint)

void parse_piece(std::string_view b, size_t base, const std::string& file, ModelProto::Piece& p) {
  Reader r(b, base, file, "SentencePiece");
  while (!r.done()) {
    auto [f, w] = r.key();
    if (f == 1) {
      r.expect(w, 2, f);
      p.piece = std::string(r.bytes());
    } else if (f == 2) {
      r.expect(w, 5, f);
      p.score = r.fixed32_float();
    } else if (f == 3) {
      r.expect(w, 0, f);
      p.type = as_int32(r.varint());
    } else {
      r.skip(w);
    }
  }
}

void parse_trainer(std::string_view b, size_t base, const std::string& file, ModelProto& m) {
  Reader r(b, base, file, "TrainerSpec");
  while (!r.done()) {
    const auto key = r.key();  // not a structured binding: the lambdas below capture it (clang)
    const uint32_t f = key.first;
    const int w = key.second;
    auto str = [&](std::string& dst) {
      r.expect(w, 2, f);
      dst = std::string(r.bytes());
    };
    auto num = [&]() {
      r.expect(w, 0, f);
      return r.varint();
    };
    switch (f) {
      case 3: m.model_type = as_int32(num()); break;
      case 35: m.byte_fallback = num() != 0; break;
      case 40: m.unk_id = as_int32(num()); break;
      case 41: m.bos_id = as_int32(num()); break;
      case 42: m.eos_id = as_int32(num()); break;
      case 43: m.pad_id = as_int32(num()); break;
      case 45: str(m.unk_piece); break;
      case 46: str(m.bos_piece); break;
      case 47: str(m.eos_piece); break;
      case 48: str(m.pad_piece); break;
      default: r.skip(w);
    }
  }
}

void parse_normalizer(std::string_view b, size_t base, const std::string& file, ModelProto& m) {
  Reader r(b, base, file, "NormalizerSpec");
  while (!r.done()) {
    auto [f, w] = r.key();
    switch (f) {
      case 1: r.expect(w, 2, f); m.normalizer_name = std::string(r.bytes()); break;
      case 2: r.expect(w, 2, f); m.precompiled_charsmap = std::string(r.bytes()); break;
      case 3: r.expect(w, 0, f); m.add_dummy_prefix = r.varint() != 0; break;
      case 4: r.expect(w, 0, f); m.remove_extra_whitespaces = r.varint() != 0; break;
      case 5: r.expect(w, 0, f); m.escape_whitespaces = r.varint() != 0; break;
      default: r.skip(w);
    }
  }
}

std::string b64encode(std::string_view in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(in[i])) << 16) | (uint32_t(uint8_t(in[i + 1])) << 8) | uint8_t(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(k[(v >> s) & 63]);
  }
  if (i < in.size()) {
    uint32_t v = uint32_t(uint8_t(in[i])) << 16;
    if (i + 1 < in.size()) v |= uint32_t(uint8_t(in[i + 1])) << 8;
    out.push_back(k[(v >> 18) & 63]);
    out.push_back(k[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? k[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

using json = nlohmann::json;

json added_token(int64_t id, const std::string& content, bool special, bool lstrip, bool rstrip, bool single_word = false,
                 bool normalized = false) {
  return json{{"id", id},         {"content", content},       {"single_word", single_word}, {"lstrip", lstrip},
              {"rstrip", rstrip}, {"normalized", normalized}, {"special", special}};
}

json template_piece(const std::string& special, int type_id) { return json{{"SpecialToken", {{"id", special}, {"type_id", type_id}}}}; }
json template_seq(const char* id, int type_id) { return json{{"Sequence", {{"id", id}, {"type_id", type_id}}}}; }

}  // namespace

const char* const kSpecialAttrs[7] = {"bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"};

ModelProto parse_model(std::string_view bytes, const std::string& file) {
  ModelProto m;
  Reader r(bytes, 0, file, "ModelProto");
  bool trainer = false;
  while (!r.done()) {
    auto [f, w] = r.key();
    size_t start = 0;
    if (f == 1) {
      r.expect(w, 2, f);
      std::string_view b = r.bytes(&start);
      m.pieces.emplace_back();
      parse_piece(b, start, file, m.pieces.back());
    } else if (f == 2) {
      r.expect(w, 2, f);
      std::string_view b = r.bytes(&start);
      parse_trainer(b, start, file, m);
      trainer = true;
    } else if (f == 3) {
      r.expect(w, 2, f);
      std::string_view b = r.bytes(&start);
      parse_normalizer(b, start, file, m);
    } else {
      r.skip(w);
    }
  }
  if (m.pieces.empty()) throw invalid_file(file, "not a SentencePiece model: no pieces");
  if (!trainer) throw invalid_file(file, "not a SentencePiece model: no trainer_spec");
  const auto n = static_cast<int64_t>(m.pieces.size());
  if (m.unk_id < 0 || m.unk_id >= n)
    throw invalid_file(file, "trainer_spec.unk_id " + std::to_string(m.unk_id) + " is not a piece id (0.." + std::to_string(n - 1) + ")");
  for (size_t i = 0; i < m.pieces.size(); ++i)
    if (m.pieces[i].type < 1 || m.pieces[i].type > 6)
      throw invalid_file(file, "piece " + std::to_string(i) + " has type " + std::to_string(m.pieces[i].type) + " (expected 1..6)");
  return m;
}

std::optional<Family> family_of(std::string_view name) {
  if (name.size() > 4 && name.substr(name.size() - 4) == "Fast") name.remove_suffix(4);
  if (name == "XLMRobertaTokenizer" || name == "xlm-roberta") return Family::XLMRoberta;
  if (name == "CamembertTokenizer" || name == "camembert") return Family::Camembert;
  if (name == "AlbertTokenizer" || name == "albert") return Family::Albert;
  if (name == "DebertaV2Tokenizer" || name == "deberta-v2") return Family::DebertaV2;
  if (name == "T5Tokenizer" || name == "t5" || name == "mt5") return Family::T5;  // mt5: AutoTokenizer's T5Tokenizer
  if (name == "XLNetTokenizer" || name == "xlnet") return Family::XLNet;
  return std::nullopt;
}

Options default_options(Family f) {
  Options o;
  const bool albert = f == Family::Albert;
  const char* defaults[7] = {albert ? "[CLS]" : "<s>", albert ? "[SEP]" : "</s>", "<unk>", albert ? "[SEP]" : "</s>",
                             "<pad>",                  albert ? "[CLS]" : "<s>",  albert ? "[MASK]" : "<mask>"};
  for (int i = 0; i < 7; ++i) o.specials[i].content = defaults[i];
  if (f == Family::Camembert) o.specials[6].lstrip = true;  // AddedToken(mask_token, lstrip=True)
  if (f == Family::DebertaV2) {
    const char* d[7] = {"[CLS]", "[SEP]", "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]"};
    for (int i = 0; i < 7; ++i) o.specials[i].content = d[i];
    o.do_lower_case = false;
  }
  if (f == Family::T5) {
    const char* d[7] = {"", "</s>", "<unk>", "", "<pad>", "", ""};
    for (int i = 0; i < 7; ++i) o.specials[i].content = d[i];
  }
  if (f == Family::XLNet) {
    const char* d[7] = {"<s>", "</s>", "<unk>", "<sep>", "<pad>", "<cls>", "<mask>"};
    for (int i = 0; i < 7; ++i) o.specials[i].content = d[i];
    o.specials[6].lstrip = true;  // AddedToken(mask_token, lstrip=True)
    o.do_lower_case = false;
  }
  return o;
}

json to_tokenizer_json(const ModelProto& m, Family f, const Options& o, const std::string& file) {
  const auto& sp = o.specials;
  const std::string &bos = sp[0].content, &eos = sp[1].content, &unk = sp[2].content, &sep = sp[3].content,
                    &pad = sp[4].content, &cls = sp[5].content, &mask = sp[6].content;
  // The model's vocabulary: the family's fairseq-style id mapping (convert_from_spm).
  json vocab = json::array();
  auto add = [&](const std::string& piece, double score) { vocab.push_back(json::array({piece, score})); };
  int64_t unk_id = 0;
  if (f == Family::XLMRoberta) {
    for (const auto* s : {&bos, &pad, &eos, &unk}) add(*s, 0.0);
    for (size_t i = 3; i < m.pieces.size(); ++i) add(m.pieces[i].piece, m.pieces[i].score);
    add(mask, 0.0);
    unk_id = 3;
  } else if (f == Family::Camembert) {
    add("<s>NOTUSED", 0.0);
    add(pad, 0.0);
    add("</s>NOTUSED", 0.0);
    add(unk, 0.0);
    add("<unk>NOTUSED", -100.0);
    for (size_t i = 1; i < m.pieces.size(); ++i) add(m.pieces[i].piece, m.pieces[i].score);
    add(mask, 0.0);
    // CamembertTokenizer: the first piece equal to unk_token, else 0.
    for (size_t i = 0; i < vocab.size(); ++i)
      if (vocab[i][0].get_ref<const std::string&>() == unk) {
        unk_id = static_cast<int64_t>(i);
        break;
      }
  } else if (f == Family::DebertaV2) {
    for (const auto& p : m.pieces) add(p.piece, p.score);
    // DebertaV2Tokenizer: vocab.index((unk_token, 0.0)), else the trainer's unk_id.
    unk_id = m.unk_id;
    for (size_t i = 0; i < m.pieces.size(); ++i)
      if (m.pieces[i].piece == unk && m.pieces[i].score == 0.0f) {
        unk_id = static_cast<int64_t>(i);
        break;
      }
  } else if (f == Family::T5) {  // T5Converter.convert_from_spm: the sentinels appended in reverse
    for (const auto& p : m.pieces) add(p.piece, p.score);
    for (int64_t i = o.extra_ids - 1; i >= 0; --i) add("<extra_id_" + std::to_string(i) + ">", 0.0);
    unk_id = 2;  // T5Tokenizer's Unigram(unk_id=2), whatever the trainer's
    if (vocab.size() < 3) throw invalid_file(file, "a T5 SentencePiece model needs at least 3 pieces (unk is id 2)");
  } else if (f == Family::XLNet) {
    for (const auto& p : m.pieces) add(p.piece, p.score);
    unk_id = m.unk_id;  // the extractor's trainer_spec.unk_id
  } else {
    for (const auto& p : m.pieces) add(p.piece, p.score);
    unk_id = 1;  // AlbertTokenizer's Unigram(unk_id=1)
    if (m.pieces.size() < 2) throw invalid_file(file, "an ALBERT SentencePiece model needs at least 2 pieces (unk is id 1)");
  }
  // Python dict semantics for token -> id (the Rust Unigram keeps the last id of a duplicate).
  std::unordered_map<std::string, int64_t> ids;
  for (size_t i = 0; i < vocab.size(); ++i) ids[vocab[i][0].get_ref<const std::string&>()] = static_cast<int64_t>(i);

  json j;
  j["version"] = "1.0";
  j["truncation"] = nullptr;
  j["padding"] = nullptr;

  // Added tokens: the named special tokens (attribute order), then the model's control (special)
  // and user-defined (not special) pieces; a content already in the vocabulary keeps its id.
  json added = json::array();
  std::unordered_map<std::string, int64_t> added_ids;
  int64_t next_id = static_cast<int64_t>(vocab.size());
  auto add_token = [&](const std::string& content, bool special, bool lstrip, bool rstrip, bool single_word = false,
                       bool normalized = false) {
    if (content.empty() || added_ids.count(content)) return;
    int64_t id;
    if (auto it = ids.find(content); it != ids.end())
      id = it->second;
    else
      id = next_id++;
    added_ids[content] = id;
    added.push_back(added_token(id, content, special, lstrip, rstrip, single_word, normalized));
  };
  // T5 / XLNet (TokenizersBackend classes) get the pieces first, as the extractor's
  // additional_special_tokens: a control <mask> keeps lstrip false there.
  const bool pieces_first = f == Family::T5 || f == Family::XLNet;
  // The folder's own list takes the place of the class's (transformers' extra_special_tokens win over
  // the additional_special_tokens the extractor passes): every entry special, ids appended when new.
  auto add_pieces = [&] {
    if (!o.additional.empty()) {
      for (const auto& s : o.additional) add_token(s.content, true, s.lstrip, s.rstrip, s.single_word, s.normalized);
      return;
    }
    // A user-defined piece that is also a named token is special (TokenizersBackend.__init__).
    auto named = [&](const std::string& t) {
      for (const auto& s : o.named_extra)
        if (s.content == t) return true;
      return false;
    };
    for (const auto& p : m.pieces)
      if (p.type == 3 || p.type == 4) add_token(p.piece, p.type == 3 || named(p.piece), false, false);
  };
  if (pieces_first) add_pieces();
  for (const auto& s : sp) add_token(s.content, true, s.lstrip, s.rstrip);
  if (!pieces_first) add_pieces();
  if (f == Family::T5 && o.additional.empty())  // with a list of its own the sentinels stay plain pieces
    for (int64_t i = 0; i < o.extra_ids; ++i) add_token("<extra_id_" + std::to_string(i) + ">", true, false, false);
  // Then what TokenizersBackend.__init__ adds: added_tokens_decoder's tokens (an added one takes the
  // new flags, as the library's add_tokens replaces it), then the model-specific named tokens.
  for (const auto& a : o.added_decoder) {
    if (added_ids.count(a.content)) {
      for (auto& e : added)
        if (e["content"].get_ref<const std::string&>() == a.content)
          e = added_token(e["id"].get<int64_t>(), a.content, a.special, a.lstrip, a.rstrip, a.single_word, a.normalized);
    } else {
      add_token(a.content, a.special, a.lstrip, a.rstrip, a.single_word, a.normalized);
    }
  }
  for (const auto& s : o.named_extra) add_token(s.content, true, s.lstrip, s.rstrip, s.single_word, s.normalized);
  std::stable_sort(added.begin(), added.end(), [](const json& a, const json& b) { return a["id"].get<int64_t>() < b["id"].get<int64_t>(); });
  j["added_tokens"] = added;
  auto token_id = [&](const std::string& t) -> int64_t {
    if (auto it = added_ids.find(t); it != added_ids.end()) return it->second;
    if (auto it = ids.find(t); it != ids.end()) return it->second;
    return unk_id;
  };

  // Normalizer.
  json precompiled = nullptr;
  if (!m.precompiled_charsmap.empty()) precompiled = json{{"type", "Precompiled"}, {"precompiled_charsmap", b64encode(m.precompiled_charsmap)}};
  if (f == Family::Albert || f == Family::XLNet) {
    json list = json::array();
    list.push_back(json{{"type", "Replace"}, {"pattern", {{"String", "``"}}}, {"content", "\""}});
    list.push_back(json{{"type", "Replace"}, {"pattern", {{"String", "''"}}}, {"content", "\""}});
    if (!o.keep_accents || f == Family::XLNet) {  // XLNetTokenizer strips accents whatever keep_accents says
      list.push_back(json{{"type", "NFKD"}});
      list.push_back(json{{"type", "StripAccents"}});
    }
    if (o.do_lower_case) list.push_back(json{{"type", "Lowercase"}});
    if (!precompiled.is_null()) list.push_back(precompiled);
    j["normalizer"] = json{{"type", "Sequence"}, {"normalizers", list}};
  } else if (f == Family::DebertaV2) {  // DebertaV2Tokenizer.__init__ (no charsmap)
    json list = json::array();
    if (o.do_lower_case) list.push_back(json{{"type", "Lowercase"}});
    list.push_back(json{{"type", "Replace"}, {"pattern", {{"Regex", "\\s{2,}|[\\n\\r\\t]"}}}, {"content", " "}});
    list.push_back(json{{"type", "NFC"}});
    list.push_back(json{{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}});
    j["normalizer"] = json{{"type", "Sequence"}, {"normalizers", list}};
  } else {
    j["normalizer"] = precompiled;
  }

  const bool deberta = f == Family::DebertaV2;
  // T5Tokenizer / XLNetTokenizer ignore add_prefix_space.
  const bool prefix = o.add_prefix_space || f == Family::T5 || f == Family::XLNet;
  const std::string scheme = prefix ? "always" : deberta ? "first" : "never";
  json meta{{"type", "Metaspace"}, {"replacement", "\u2581"}, {"prepend_scheme", scheme}, {"split", true}};
  if (deberta) {
    json list = json::array();
    if (o.split_by_punct) list.push_back(json{{"type", "Punctuation"}, {"behavior", "Isolated"}});
    list.push_back(meta);
    j["pre_tokenizer"] = json{{"type", "Sequence"}, {"pretokenizers", list}};
  } else {
    j["pre_tokenizer"] = json{{"type", "Sequence"}, {"pretokenizers", json::array({json{{"type", "WhitespaceSplit"}}, meta})}};
  }

  // Post-processor: <s> $A </s> (</s> $B </s>) or [CLS] $A [SEP] ($B:1 [SEP]:1).
  json single = json::array(), pair = json::array(), specials = json::object();
  auto special_entry = [&](const std::string& name, const std::string& token) {
    int64_t id = token_id(token);
    if (f == Family::Albert) {  // AlbertTokenizer looks them up in the model before adding any token
      auto it = ids.find(token);
      if (it == ids.end()) throw invalid_file(file, "ALBERT post-processor: \"" + token + "\" is not a piece of the model");
      id = it->second;
    }
    specials[name] = json{{"id", name}, {"ids", json::array({id})}, {"tokens", json::array({name})}};
  };
  if (deberta) {  // cls:0 $A:0 sep:0 $B:1 sep:1 with the tokenizer's own cls / sep
    single = json::array({template_piece(cls, 0), template_seq("A", 0), template_piece(sep, 0)});
    pair = json::array({template_piece(cls, 0), template_seq("A", 0), template_piece(sep, 0), template_seq("B", 1),
                        template_piece(sep, 1)});
    special_entry(cls, cls);
    special_entry(sep, sep);
  } else if (f == Family::T5) {  // $A </s> ($B </s>): the literal "</s>" with the eos token's id
    single = json::array({template_seq("A", 0), template_piece("</s>", 0)});
    pair = json::array({template_seq("A", 0), template_piece("</s>", 0), template_seq("B", 0), template_piece("</s>", 0)});
    special_entry("</s>", eos);
  } else if (f == Family::XLNet) {  // $A:0 <sep>:0 ($B:1 <sep>:1) <cls>:2, at the end
    single = json::array({template_seq("A", 0), template_piece(sep, 0), template_piece(cls, 2)});
    pair = json::array({template_seq("A", 0), template_piece(sep, 0), template_seq("B", 1), template_piece(sep, 1),
                        template_piece(cls, 2)});
    special_entry(sep, sep);
    special_entry(cls, cls);
  } else if (f == Family::Albert) {
    single = json::array({template_piece("[CLS]", 0), template_seq("A", 0), template_piece("[SEP]", 0)});
    pair = json::array({template_piece("[CLS]", 0), template_seq("A", 0), template_piece("[SEP]", 0), template_seq("B", 1),
                        template_piece("[SEP]", 1)});
    special_entry("[CLS]", cls);
    special_entry("[SEP]", sep);
  } else {
    single = json::array({template_piece(bos, 0), template_seq("A", 0), template_piece(eos, 0)});
    pair = json::array({template_piece(bos, 0), template_seq("A", 0), template_piece(eos, 0), template_piece(eos, 0),
                        template_seq("B", 0), template_piece(eos, 0)});
    special_entry(bos, bos);
    special_entry(eos, eos);
  }
  j["post_processor"] = json{{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
  j["decoder"] = meta;
  j["model"] = json{{"type", "Unigram"}, {"unk_id", unk_id}, {"vocab", vocab}, {"byte_fallback", false}};
  return j;
}

}  // namespace bertcpp::sp
