// Normalizers, pre-tokenizers, decoders and post-processors of tokenizer.json.
#include <algorithm>
#include <array>
#include <cstring>

#include <utf8proc.h>

#include "bertcpp/error.h"
#include "io/json_util.h"
#include "tokenizer/hf.hpp"
#include "tokenizer/unicode.hpp"

namespace bertcpp::hf {

namespace {

std::string type_of(const json& j, const std::string& where) {
  if (!j.is_object()) throw invalid_file(where, "must be an object, got " + io::json_brief(j));
  return get_str(j, "type", where);
}

char32_t one_char(const std::string& s, const std::string& where, const char* key) {
  std::u32string u = to_u32(s);
  if (u.size() != 1) throw invalid_file(where, std::string("\"") + key + "\" must be one character, got \"" + s + "\"");
  return u[0];
}

// A "pattern": {"String": s} or {"Regex": r}.
struct Pattern {
  std::u32string literal;
  std::shared_ptr<Regex> regex;
  static Pattern parse(const json& j, const std::string& where) {
    Pattern p;
    if (!j.is_object()) throw invalid_file(where, "\"pattern\" must be {\"String\": ...} or {\"Regex\": ...}");
    if (auto s = j.find("String"); s != j.end() && s->is_string()) {
      p.literal = to_u32(s->get<std::string>());
    } else if (auto r = j.find("Regex"); r != j.end() && r->is_string()) {
      p.regex = std::make_shared<Regex>(r->get<std::string>(), where + ".pattern");
    } else {
      throw invalid_file(where, "\"pattern\" must be {\"String\": ...} or {\"Regex\": ...}, got " + io::json_brief(j));
    }
    return p;
  }
  void find(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
    out.clear();
    if (regex) {
      regex->find_all(text, out);
      return;
    }
    if (literal.empty()) return;
    size_t i = 0;
    while ((i = text.find(literal, i)) != std::u32string_view::npos) {
      out.emplace_back(i, i + literal.size());
      i += literal.size();
    }
  }
};

// ------------------------------------------------------------------ normalizers

struct BertNorm : Normalizer {
  bool clean = true, chinese = true, strip = false, lower = true;
  // All ASCII: no Chinese characters, nothing to decompose or strip; one pass finds what to do.
  bool normalize_ascii(NStr& n) const {
    static const auto flags = [] {
      std::array<uint8_t, 128> t{};
      for (char32_t c = 0; c < 128; ++c)
        t[c] = (is_bert_drop(c) ? 1 : 0) | (c != ' ' && is_bert_space(c) ? 2 : 0) | (c >= 'A' && c <= 'Z' ? 4 : 0);
      return t;
    }();
    uint8_t any = 0;
    for (char32_t c : n.s) {
      if (c >= 128) return false;
      any |= flags[c];
    }
    if (clean && (any & 1)) n.filter([](char32_t c) { return !is_bert_drop(c); });
    if (clean && (any & 2))
      for (char32_t& c : n.s)
        if (c < 128 && (flags[c] & 2)) c = ' ';
    if (lower && (any & 4))
      for (char32_t& c : n.s)
        if (c >= 'A' && c <= 'Z') c += 32;
    return true;
  }
  void normalize(NStr& n) const override {
    if (normalize_ascii(n)) return;
    if (clean) {
      bool drop = false, space = false;
      for (char32_t c : n.s) {
        drop = drop || is_bert_drop(c);
        space = space || (c != ' ' && is_bert_space(c));
      }
      if (drop) n.filter([](char32_t c) { return !is_bert_drop(c); });
      if (space)  // one character for one: the alignments stay
        for (char32_t& c : n.s)
          if (is_bert_space(c)) c = ' ';
    }
    if (chinese) {
      bool any = false;
      for (char32_t c : n.s)
        if (is_chinese(c)) {
          any = true;
          break;
        }
      if (any) {
        std::vector<std::pair<char32_t, int>> t;
        t.reserve(n.s.size() + 16);
        for (char32_t c : n.s) {
          if (is_chinese(c)) {
            t.emplace_back(' ', 0);
            t.emplace_back(c, 1);
            t.emplace_back(' ', 1);
          } else {
            t.emplace_back(c, 0);
          }
        }
        n.transform_all(t, 0);
      }
    }
    if (strip) {
      n.nfd(false);
      bool any = false;
      for (char32_t c : n.s)
        if (is_mn(c)) {
          any = true;
          break;
        }
      if (any) n.filter([](char32_t c) { return !is_mn(c); });
    }
    if (lower) n.lowercase();
  }
};

struct UnicodeNorm : Normalizer {
  bool compose, compat;
  UnicodeNorm(bool c, bool k) : compose(c), compat(k) {}
  void normalize(NStr& n) const override {
    if (compose)
      n.nfc(compat);
    else
      n.nfd(compat);
  }
};

struct LowercaseNorm : Normalizer {
  void normalize(NStr& n) const override { n.lowercase(); }
};

// unicode-normalization's is_combining_mark (Mn, Mc, Me of its older Unicode), not BertNormalizer's Mn.
struct StripAccentsNorm : Normalizer {
  void normalize(NStr& n) const override { n.filter([](char32_t c) { return !is_combining_mark(c); }); }
};

struct StripNorm : Normalizer {
  bool left, right;
  StripNorm(bool l, bool r) : left(l), right(r) {}
  void normalize(NStr& n) const override { n.lrstrip(left, right); }
};

struct ReplaceNorm : Normalizer {
  Pattern pattern;
  std::u32string content;
  void normalize(NStr& n) const override {
    std::vector<std::pair<size_t, size_t>> m;
    pattern.find(n.s, m);
    n.replace(m, content);
  }
};

struct PrependNorm : Normalizer {
  std::u32string prefix;
  void normalize(NStr& n) const override {
    if (!n.s.empty()) n.prepend(prefix);
  }
};

struct NmtNorm : Normalizer {
  void normalize(NStr& n) const override {
    n.filter([](char32_t c) {
      return !((c >= 0x0001 && c <= 0x0008) || c == 0x000B || (c >= 0x000E && c <= 0x001F) || c == 0x007F ||
               c == 0x008F || c == 0x009F);
    });
    for (char32_t& c : n.s) {
      if (c == 0x0009 || c == 0x000A || c == 0x000C || c == 0x000D || c == 0x1680 || (c >= 0x200B && c <= 0x200F) ||
          c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF || c == 0xFFFD)
        c = ' ';
    }
  }
};

struct SequenceNorm : Normalizer {
  std::vector<std::unique_ptr<Normalizer>> items;
  void normalize(NStr& n) const override {
    for (const auto& x : items) x->normalize(n);
  }
};

// SentencePiece's precompiled charsmap: a darts-clone double array over UTF-8 keys whose values
// index NUL-terminated replacement strings.
struct PrecompiledNorm : Normalizer {
  std::vector<uint32_t> units;
  std::string normalized;

  static bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
  static uint32_t value(uint32_t u) { return u & ((1u << 31) - 1); }
  static uint32_t label(uint32_t u) { return u & ((1u << 31) | 0xFF); }
  static uint32_t offset(uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); }

  // The first (shortest) key that is a prefix of `key`, as the library's common_prefix_search()[0].
  std::optional<std::string_view> transform(std::string_view key) const {
    if (units.empty()) return std::nullopt;
    size_t pos = 0;
    uint32_t unit = units[0];
    pos ^= offset(unit);
    for (unsigned char c : key) {
      if (c == 0) break;
      pos ^= c;
      if (pos >= units.size()) return std::nullopt;
      unit = units[pos];
      if (label(unit) != c) return std::nullopt;
      pos ^= offset(unit);
      if (pos >= units.size()) return std::nullopt;
      if (has_leaf(unit)) {
        const size_t idx = value(units[pos]);
        if (idx >= normalized.size()) return std::nullopt;
        size_t end = normalized.find('\0', idx);
        if (end == std::string::npos) end = normalized.size();
        return std::string_view(normalized).substr(idx, end - idx);
      }
    }
    return std::nullopt;
  }

  static void push_replace(std::vector<std::pair<char32_t, int>>& t, size_t old_count, std::string_view repl) {
    std::u32string nw = to_u32(repl);
    const long diff = static_cast<long>(nw.size()) - static_cast<long>(old_count);
    for (char32_t c : nw) t.emplace_back(c, 0);
    if (diff > 0) {
      for (long k = 0; k < diff; ++k) t[t.size() - 1 - static_cast<size_t>(k)].second = 1;
    } else if (diff < 0 && !t.empty()) {
      t.back().second += static_cast<int>(diff);
    }
  }

  // transform() of each one-character ASCII key, computed once.
  std::array<std::optional<std::string_view>, 128> ascii_repl;
  std::array<char32_t, 128> ascii_one{};  // the replacement when it is one code point, else 0
  bool ascii_identity = true;
  void init_ascii() {
    for (int c = 0; c < 128; ++c) {
      const char k[1] = {static_cast<char>(c)};
      ascii_repl[c] = c == 0 ? std::nullopt : transform(std::string_view(k, 1));
      if (ascii_repl[c]) ascii_identity = false;
      const std::u32string r = ascii_repl[c] ? to_u32(*ascii_repl[c]) : std::u32string(1, static_cast<char32_t>(c));
      ascii_one[c] = r.size() == 1 ? r[0] : 0;
    }
  }
  // All ASCII, no CR LF, every replacement one code point for one: in place (alignments unchanged,
  // what transform gives for (char, 0) changes).
  bool normalize_ascii(NStr& n) const {
    for (size_t i = 0; i < n.s.size(); ++i) {
      const char32_t c = n.s[i];
      if (c >= 0x80 || !ascii_one[c] || (c == '\r' && i + 1 < n.s.size() && n.s[i + 1] == '\n')) return false;
    }
    if (!ascii_identity)
      for (char32_t& c : n.s) c = ascii_one[c];
    return true;
  }
  // An ASCII character followed by ASCII (or the end) is a grapheme of its own, but for CR LF.
  static bool lone_ascii(const std::u32string& s, size_t i) {
    return s[i] < 0x80 && (i + 1 == s.size() || (s[i + 1] < 0x80 && !(s[i] == '\r' && s[i + 1] == '\n')));
  }

  void normalize(NStr& n) const override {
    if (normalize_ascii(n)) return;
    std::vector<std::pair<char32_t, int>> t;
    t.reserve(n.s.size());
    bool modified = false;
    std::string g;
    utf8proc_int32_t state = 0;
    size_t i = 0;
    while (i < n.s.size()) {
      if (lone_ascii(n.s, i)) {
        if (const auto& r = ascii_repl[n.s[i]]) {
          modified = true;
          push_replace(t, 1, *r);
        } else {
          t.emplace_back(n.s[i], 0);
        }
        ++i;
        continue;
      }
      // One extended grapheme cluster [i, j).
      size_t j = i + 1;
      state = 0;
      while (j < n.s.size() && !utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(n.s[j - 1]),
                                                                 static_cast<utf8proc_int32_t>(n.s[j]), &state))
        ++j;
      g.clear();
      for (size_t k = i; k < j; ++k) tok::append_utf8(g, n.s[k]);
      if (g.size() < 6) {
        if (auto r = transform(g)) {
          modified = true;
          push_replace(t, j - i, *r);
          i = j;
          continue;
        }
      }
      std::string part;
      for (size_t k = i; k < j; ++k) {
        part.clear();
        tok::append_utf8(part, n.s[k]);
        if (auto r = transform(part)) {
          modified = true;
          push_replace(t, 1, *r);
        } else {
          t.emplace_back(n.s[k], 0);
        }
      }
      i = j;
    }
    if (modified) n.transform_all(t, 0);
  }
};

std::string b64decode(const std::string& in, const std::string& where) {
  std::string out;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char ch : in) {
    int v;
    if (ch >= 'A' && ch <= 'Z')
      v = ch - 'A';
    else if (ch >= 'a' && ch <= 'z')
      v = ch - 'a' + 26;
    else if (ch >= '0' && ch <= '9')
      v = ch - '0' + 52;
    else if (ch == '+')
      v = 62;
    else if (ch == '/')
      v = 63;
    else if (ch == '=')
      break;
    else
      throw invalid_file(where, "precompiled_charsmap is not base64");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return out;
}

std::unique_ptr<Normalizer> make_precompiled(const json& j, const std::string& where) {
  auto p = std::make_unique<PrecompiledNorm>();
  const json& m = field(j, "precompiled_charsmap", where);
  if (m.is_null()) return std::make_unique<SequenceNorm>();  // no charsmap: identity
  if (!m.is_string()) throw invalid_file(where, "\"precompiled_charsmap\" must be a base64 string");
  std::string blob = b64decode(m.get<std::string>(), where);
  if (blob.size() < 4) throw invalid_file(where, "precompiled_charsmap is too short");
  uint32_t trie_bytes;
  std::memcpy(&trie_bytes, blob.data(), 4);
  if (trie_bytes % 4 != 0 || trie_bytes > blob.size() - 4)
    throw invalid_file(where, "precompiled_charsmap: trie size " + std::to_string(trie_bytes) + " does not fit the blob");
  p->units.resize(trie_bytes / 4);
  std::memcpy(p->units.data(), blob.data() + 4, trie_bytes);
  p->normalized = blob.substr(4 + trie_bytes);
  p->init_ascii();
  return p;
}

// ------------------------------------------------------------------ pre-tokenizers

template <class F>
void split_each(std::vector<Split>& splits, F&& f) {
  thread_local std::vector<Split> out;  // swapped with `splits`: its capacity is kept
  out.clear();
  for (auto& sp : splits) {
    if (sp.done) {
      out.push_back(std::move(sp));
      continue;
    }
    f(sp.n, out);  // appends the pieces sp.n is replaced by (f may modify or move sp.n)
    recycle(std::move(sp.n));
  }
  splits.swap(out);
  trim_scratch(out);
}

// The whole piece, unsplit.
void keep_whole(NStr& n, std::vector<Split>& out) {
  if (n.s.empty()) return;
  out.emplace_back();
  out.back().n = std::move(n);
}

template <class Pred>
const Matches& char_matches(const std::u32string& s, Pred&& p) {
  thread_local Matches m;  // valid until the next call
  m.clear();
  trim_scratch(m);
  if (s.empty()) {
    m.emplace_back(0, 0, false);
    return m;
  }
  size_t last = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (p(s[i])) {
      if (last < i) m.emplace_back(last, i, false);
      m.emplace_back(i, i + 1, true);
      last = i + 1;
    }
  }
  if (last < s.size()) m.emplace_back(last, s.size(), false);
  return m;
}

// Whitespace removed, then punctuation isolated: one pass giving the same non-empty pieces.
struct BertPre : PreTokenizer {
  void pre_tokenize(std::vector<Split>& splits) const override {
    thread_local std::vector<Split> out;  // swapped with `splits`: its capacity is kept
    out.clear();
    for (auto& sp : splits) {
      if (sp.done) {
        out.push_back(std::move(sp));
        continue;
      }
      static const auto ascii = [] {
        std::array<bool, 128> t{};
        for (char32_t c = 0; c < 128; ++c) t[c] = is_rust_whitespace(c) || is_bert_punct(c);
        return t;
      }();
      const std::u32string& s = sp.n.s;
      auto emit = [&](size_t a, size_t b) {
        if (a >= b) return;
        out.emplace_back();
        out.back().n = sp.n.slice(a, b);
      };
      size_t start = 0;
      for (size_t i = 0; i < s.size(); ++i) {
        const char32_t c = s[i];
        if (c < 128 ? !ascii[c] : !(is_rust_whitespace(c) || is_bert_punct(c))) continue;
        emit(start, i);
        if (!is_rust_whitespace(c)) emit(i, i + 1);
        start = i + 1;
      }
      emit(start, s.size());
      recycle(std::move(sp.n));
    }
    splits.swap(out);
    trim_scratch(out);
  }
};

// Whitespace: the regex \w+|[^\w\s]+ (Rust regex classes), by hand; what it does not match is removed.
struct WhitespacePre : PreTokenizer {
  void pre_tokenize(std::vector<Split>& splits) const override {
    std::vector<std::pair<size_t, size_t>> found;
    Matches m;
    split_each(splits, [&](const NStr& n, std::vector<Split>& out) {
      found.clear();
      const auto& s = n.s;
      size_t i = 0;
      while (i < s.size()) {
        if (is_rust_whitespace(s[i])) {
          ++i;
          continue;
        }
        const bool word = is_word_char(s[i]);
        size_t e = i + 1;
        while (e < s.size() && !is_rust_whitespace(s[e]) && is_word_char(s[e]) == word) ++e;
        found.emplace_back(i, e);
        i = e;
      }
      cover(found, s.size(), m);
      for (auto& x : m) std::get<2>(x) = !std::get<2>(x);
      split_by(n, m, SplitBehavior::Removed, out);
    });
  }
};

struct WhitespaceSplitPre : PreTokenizer {
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [](const NStr& n, std::vector<Split>& out) {
      split_by(n, char_matches(n.s, is_rust_whitespace), SplitBehavior::Removed, out);
    });
  }
};

struct PunctuationPre : PreTokenizer {
  SplitBehavior behavior = SplitBehavior::Isolated;
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](const NStr& n, std::vector<Split>& out) { split_by(n, char_matches(n.s, is_bert_punct), behavior, out); });
  }
};

struct DigitsPre : PreTokenizer {
  bool individual = false;
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](const NStr& n, std::vector<Split>& out) {
      split_by(n, char_matches(n.s, is_numeric), individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, out);
    });
  }
};

struct CharDelimPre : PreTokenizer {
  char32_t delim = ' ';
  void pre_tokenize(std::vector<Split>& splits) const override {
    split_each(splits, [&](const NStr& n, std::vector<Split>& out) {
      split_by(n, char_matches(n.s, [&](char32_t c) { return c == delim; }), SplitBehavior::Removed, out);
    });
  }
};

struct RegexSplitPre : PreTokenizer {
  Pattern pattern;
  SplitBehavior behavior = SplitBehavior::Isolated;
  bool invert = false;
  void pre_tokenize(std::vector<Split>& splits) const override {
    std::vector<std::pair<size_t, size_t>> found;
    Matches m;
    split_each(splits, [&](const NStr& n, std::vector<Split>& out) {
      pattern.find(n.s, found);
      cover(found, n.s.size(), m);
      if (invert)
        for (auto& x : m) std::get<2>(x) = !std::get<2>(x);
      split_by(n, m, behavior, out);
    });
  }
};


const char32_t* byte_chars() {
  static const auto table = [] {
    static char32_t t[256];
    bool direct[256] = {};
    for (int b = '!'; b <= '~'; ++b) direct[b] = true;
    for (int b = 0xA1; b <= 0xAC; ++b) direct[b] = true;
    for (int b = 0xAE; b <= 0xFF; ++b) direct[b] = true;
    char32_t n = 0;
    for (int b = 0; b < 256; ++b) t[b] = direct[b] ? static_cast<char32_t>(b) : 256 + n++;
    return t;
  }();
  return table;
}

// The GPT-2 pattern 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+, hand-written: exact for it, on
// the classes of the library's bundled Oniguruma (newer Unicode data than utf8proc's or Debian's Oniguruma).
enum : uint8_t { kOther = 0, kLetter = 1, kNumber = 2, kSpace = 3 };
uint8_t gpt2_class(char32_t c) {
  if (c < 128) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return kLetter;
    if (c >= '0' && c <= '9') return kNumber;
    if (c == ' ' || (c >= 9 && c <= 13)) return kSpace;
    return kOther;
  }
  return onig_class(c);
}

void gpt2_split(std::u32string_view s, std::vector<std::pair<size_t, size_t>>& out) {
  out.clear();
  const size_t n = s.size();
  thread_local std::vector<uint8_t> cls;
  trim_scratch(cls);
  cls.resize(n);
  for (size_t k = 0; k < n; ++k) cls[k] = gpt2_class(s[k]);
  size_t i = 0;
  while (i < n) {
    // 's|'t|'re|'ve|'m|'ll|'d
    if (s[i] == '\'' && i + 1 < n) {
      const char32_t a = s[i + 1], b = i + 2 < n ? s[i + 2] : 0;
      size_t len = 0;
      if (a == 's' || a == 't' || a == 'm' || a == 'd')
        len = 2;
      else if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l'))
        len = 3;
      if (len) {
        out.emplace_back(i, i + len);
        i += len;
        continue;
      }
    }
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+'
    const size_t j = (s[i] == ' ' && i + 1 < n && cls[i + 1] != kSpace) ? i + 1 : i;
    if (cls[j] != kSpace) {
      const uint8_t c = cls[j];
      size_t e = j + 1;
      while (e < n && cls[e] == c) ++e;
      out.emplace_back(i, e);
      i = e;
      continue;
    }
    // '\s+(?!\S)' then '\s+'
    size_t e = i;
    while (e < n && cls[e] == kSpace) ++e;
    if (e < n && e - i > 1) --e;  // leave the last space to the word that follows
    out.emplace_back(i, e);
    i = e;
  }
}

struct ByteLevelPre : PreTokenizer {
  bool add_prefix_space = true, use_regex = true;
  void pre_tokenize(std::vector<Split>& splits) const override {
    thread_local std::vector<std::pair<size_t, size_t>> found;
    thread_local Matches m;
    thread_local std::vector<std::pair<char32_t, int>> t;
    thread_local std::string u;
    trim_scratch(found);
    trim_scratch(m);
    trim_scratch(t);
    const char32_t* bc = byte_chars();
    split_each(splits, [&](NStr& n, std::vector<Split>& out) {
      if (add_prefix_space && (n.s.empty() || n.s[0] != ' ')) n.prepend(U" ");
      const size_t first = out.size();
      if (use_regex) {
        gpt2_split(n.s, found);
        cover(found, n.s.size(), m);
        split_by(n, m, SplitBehavior::Isolated, out);
      } else {
        keep_whole(n, out);
      }
      for (size_t k = first; k < out.size(); ++k) {  // each piece's bytes as characters
        NStr& p = out[k].n;
        if (std::all_of(p.s.begin(), p.s.end(), [](char32_t c) { return c < 0x80; })) {
          for (char32_t& c : p.s) c = bc[c];  // one byte, one character: the alignments stay
          continue;
        }
        t.clear();
        for (char32_t c : p.s) {
          u.clear();
          tok::append_utf8(u, c);
          for (size_t b = 0; b < u.size(); ++b) t.emplace_back(bc[static_cast<unsigned char>(u[b])], b ? 1 : 0);
        }
        p.transform_all(t, 0);
      }
    });
  }
};

enum class Prepend { Always, First, Never };

struct MetaspacePre : PreTokenizer {
  char32_t repl = 0x2581;
  Prepend scheme = Prepend::Always;
  bool split = true;
  void pre_tokenize(std::vector<Split>& splits) const override {
    const std::u32string rs(1, repl);
    split_each(splits, [&](NStr& n, std::vector<Split>& out) {
      for (char32_t& c : n.s)  // one character for one, as NStr::replace aligns it
        if (c == ' ') c = repl;
      const bool starts = !n.s.empty() && n.s[0] == repl;
      if (scheme == Prepend::Always && !starts) n.prepend(rs);
      // offsets_original().0 == 0: the piece starts the original text.
      if (scheme == Prepend::First && !starts && n.shift == 0) n.prepend(rs);
      if (split)
        split_by(n, char_matches(n.s, [&](char32_t c) { return c == repl; }), SplitBehavior::MergedWithNext, out);
      else
        keep_whole(n, out);
    });
  }
};

struct SequencePre : PreTokenizer {
  std::vector<std::unique_ptr<PreTokenizer>> items;
  void pre_tokenize(std::vector<Split>& splits) const override {
    for (const auto& p : items) p->pre_tokenize(splits);
  }
};

SplitBehavior parse_behavior(const json& j, const std::string& where) {
  if (!j.is_string()) throw invalid_file(where, "\"behavior\" must be a string");
  const std::string b = j.get<std::string>();
  if (b == "Removed") return SplitBehavior::Removed;
  if (b == "Isolated") return SplitBehavior::Isolated;
  if (b == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (b == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (b == "Contiguous") return SplitBehavior::Contiguous;
  throw invalid_file(where, "unknown split behavior \"" + b + "\"");
}

Prepend parse_prepend(const json& j, const std::string& where) {
  Prepend scheme = Prepend::Always;
  if (auto p = j.find("prepend_scheme"); p != j.end() && !p->is_null()) {
    const std::string s = p->is_string() ? p->get<std::string>() : "";
    if (s == "always")
      scheme = Prepend::Always;
    else if (s == "first")
      scheme = Prepend::First;
    else if (s == "never")
      scheme = Prepend::Never;
    else
      throw invalid_file(where, "\"prepend_scheme\" must be \"always\", \"first\" or \"never\", got " + io::json_brief(*p));
  }
  if (auto a = j.find("add_prefix_space"); a != j.end() && a->is_boolean() && !a->get<bool>()) {
    if (scheme != Prepend::Never && j.contains("prepend_scheme"))
      throw invalid_file(where, "add_prefix_space does not match declared prepend_scheme");
    scheme = Prepend::Never;
  }
  return scheme;
}

// ------------------------------------------------------------------ decoders

struct WordPieceDec : Decoder {
  std::string prefix = "##";
  bool cleanup = true;
  static std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    size_t i = 0;
    while ((i = s.find(from, i)) != std::string::npos) {
      s.replace(i, from.size(), to);
      i += to.size();
    }
    return s;
  }
  static std::string clean(std::string s) {
    for (auto [a, b] : {std::pair<const char*, const char*>{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","},
                        {" ' ", "'"}, {" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"},
                        {" 've", "'ve"}, {" 're", "'re"}})
      s = replace_all(std::move(s), a, b);
    return s;
  }
  void decode_chain(std::vector<std::string>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      if (i != 0) {
        if (toks[i].compare(0, prefix.size(), prefix) == 0)
          toks[i] = toks[i].substr(prefix.size());
        else
          toks[i] = " " + toks[i];
      }
      if (cleanup) toks[i] = clean(std::move(toks[i]));
    }
  }
};

struct ByteLevelDec : Decoder {
  void decode_chain(std::vector<std::string>& toks) const override {
    static const auto inverse = [] {
      std::unordered_map<char32_t, uint8_t> m;
      const char32_t* bc = byte_chars();
      for (int b = 0; b < 256; ++b) m[bc[b]] = static_cast<uint8_t>(b);
      return m;
    }();
    std::string bytes;
    for (const auto& t : toks) {
      std::u32string u = to_u32(t);
      std::string mine;
      bool ok = true;
      for (char32_t c : u) {
        auto it = inverse.find(c);
        if (it == inverse.end()) {
          ok = false;
          break;
        }
        mine.push_back(static_cast<char>(it->second));
      }
      bytes += ok ? mine : t;
    }
    std::vector<char32_t> cps;
    std::vector<uint32_t> pos;
    tok::decode_utf8(bytes, cps, pos);
    toks.assign(1, to_utf8(std::u32string_view(cps.data(), cps.size())));
  }
};

struct MetaspaceDec : Decoder {
  char32_t repl = 0x2581;
  Prepend scheme = Prepend::Always;
  void decode_chain(std::vector<std::string>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      std::u32string u = to_u32(toks[i]), o;
      for (char32_t c : u) {
        if (c == repl) {
          if (!(i == 0 && scheme != Prepend::Never)) o.push_back(' ');
        } else {
          o.push_back(c);
        }
      }
      toks[i] = to_utf8(o);
    }
  }
};

struct BPEDec : Decoder {
  std::string suffix = "</w>";
  void decode_chain(std::vector<std::string>& toks) const override {
    for (size_t i = 0; i < toks.size(); ++i) {
      const std::string rep = i + 1 == toks.size() ? "" : " ";
      std::string s;
      size_t k = 0, f;
      while (!suffix.empty() && (f = toks[i].find(suffix, k)) != std::string::npos) {
        s.append(toks[i], k, f - k);
        s += rep;
        k = f + suffix.size();
      }
      s.append(toks[i], k, std::string::npos);
      toks[i] = s;
    }
  }
};

struct ByteFallbackDec : Decoder {
  void decode_chain(std::vector<std::string>& toks) const override {
    std::vector<std::string> out;
    std::string pending;
    size_t pending_count = 0;
    auto flush = [&] {
      if (!pending_count) return;
      if (io::is_valid_utf8(pending))
        out.push_back(pending);
      else
        for (size_t k = 0; k < pending_count; ++k) out.emplace_back("\xEF\xBF\xBD");
      pending.clear();
      pending_count = 0;
    };
    for (const auto& t : toks) {
      unsigned v = 0;
      bool is_byte = t.size() == 6 && t[0] == '<' && t[1] == '0' && t[2] == 'x' && t[5] == '>' &&
                     std::isxdigit(static_cast<unsigned char>(t[3])) && std::isxdigit(static_cast<unsigned char>(t[4]));
      if (is_byte) {
        v = static_cast<unsigned>(std::stoul(t.substr(3, 2), nullptr, 16));
        pending.push_back(static_cast<char>(v));
        ++pending_count;
      } else {
        flush();
        out.push_back(t);
      }
    }
    flush();
    toks = std::move(out);
  }
};

struct FuseDec : Decoder {
  void decode_chain(std::vector<std::string>& toks) const override {
    std::string s;
    for (const auto& t : toks) s += t;
    toks.assign(1, s);
  }
};

struct StripDec : Decoder {
  std::u32string content;
  size_t start = 0, stop = 0;
  void decode_chain(std::vector<std::string>& toks) const override {
    for (auto& t : toks) {
      std::u32string u = to_u32(t);
      size_t a = 0, b = u.size();
      for (size_t k = 0; k < start && a < b && u[a] == content[0]; ++k) ++a;
      for (size_t k = 0; k < stop && b > a && u[b - 1] == content[0]; ++k) --b;
      t = to_utf8(std::u32string_view(u).substr(a, b - a));
    }
  }
};

struct ReplaceDec : Decoder {
  Pattern pattern;
  std::u32string content;
  void decode_chain(std::vector<std::string>& toks) const override {
    std::vector<std::pair<size_t, size_t>> m;
    for (auto& t : toks) {
      NStr n;
      n.s = to_u32(t);
      n.al.assign(n.s.size(), Align(0, 0));
      pattern.find(n.s, m);
      n.replace(m, content);
      t = to_utf8(n.s);
    }
  }
};

struct CTCDec : Decoder {
  std::string pad = "<pad>", delim = "|";
  bool cleanup = true;
  void decode_chain(std::vector<std::string>& toks) const override {
    std::vector<std::string> out;
    for (size_t i = 0; i < toks.size(); ++i) {
      if (i > 0 && toks[i] == toks[i - 1]) continue;
      std::string t = toks[i];
      size_t k;
      while ((k = t.find(pad)) != std::string::npos && !pad.empty()) t.erase(k, pad.size());
      if (cleanup) {
        t = WordPieceDec::clean(std::move(t));
        std::string r;
        size_t a = 0;
        while (!delim.empty() && (k = t.find(delim, a)) != std::string::npos) {
          r.append(t, a, k - a);
          r += " ";
          a = k + delim.size();
        }
        r.append(t, a, std::string::npos);
        t = r;
      }
      if (!t.empty()) out.push_back(t);
    }
    toks = std::move(out);
  }
};

struct SequenceDec : Decoder {
  std::vector<std::unique_ptr<Decoder>> items;
  void decode_chain(std::vector<std::string>& toks) const override {
    for (const auto& d : items) d->decode_chain(toks);
  }
};

// ------------------------------------------------------------------ post-processors

bool is_ws_or_g(char32_t c) { return c == 0x120 || is_rust_whitespace(c); }

// Leading and trailing whitespace-or-Ġ code points of a token, decoding only its two ends.
bool ws_ends(std::string_view s, size_t& lead, size_t& trail) {
  lead = trail = 0;
  size_t i = 0, chars = 0;
  char32_t c;
  size_t len;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      c = static_cast<unsigned char>(s[i]);
      len = 1;
    } else if (s.compare(i, 2, "\xC4\xA0") == 0) {  // Ġ, which starts most byte-level tokens
      c = 0x120;
      len = 2;
    } else if (!tok::decode_utf8_at(s, i, c, len)) {
      return false;
    }
    if (!is_ws_or_g(c)) break;
    ++lead;
    i += len;
  }
  if (i == s.size()) {  // all of it
    trail = lead;
    return true;
  }
  chars = 0;
  size_t end = s.size();
  while (end > i) {
    if (static_cast<unsigned char>(s[end - 1]) < 0x80) {
      if (!is_ws_or_g(static_cast<unsigned char>(s[end - 1]))) break;
      ++chars;
      --end;
      continue;
    }
    size_t st = end - 1;
    while (st > i && (static_cast<unsigned char>(s[st]) & 0xC0) == 0x80 && end - st < 4) --st;
    if (!tok::decode_utf8_at(s, st, c, len) || st + len != end) return false;
    if (!is_ws_or_g(c)) break;
    ++chars;
    end = st;
  }
  trail = chars;
  return true;
}

void trim_offsets(Enc& e, bool add_prefix_space) {
  for (size_t i = 0; i < e.size(); ++i) {
    size_t lead = 0, trail = 0;
    if (!ws_ends(e.tokens[i], lead, trail)) {
      std::u32string u = to_u32(e.tokens[i]);
      lead = trail = 0;
      while (lead < u.size() && is_ws_or_g(u[lead])) ++lead;
      while (trail < u.size() && is_ws_or_g(u[u.size() - 1 - trail])) ++trail;
    }
    auto& o = e.offsets[i];
    if (lead > 0 || trail > 0) {
      if (lead > 0) {
        const bool first = i == 0 || o.first == 0;
        if (first && add_prefix_space && lead == 1) lead = 0;
        o.first = std::min<int64_t>(o.first + static_cast<int64_t>(lead), o.second);
      }
      if (trail > 0 && o.second >= static_cast<int64_t>(trail)) o.second = std::max<int64_t>(o.second - static_cast<int64_t>(trail), o.first);
    }
  }
}

struct SpecialTok {
  std::vector<int64_t> ids;
  std::vector<std::string> tokens;
};

struct TemplatePiece {
  bool is_seq;
  int seq;            // 0 = A, 1 = B
  std::string token;  // special token name
  int64_t type_id;
};

void append_special(Enc& e, const SpecialTok& t, int64_t type_id) {
  for (size_t k = 0; k < t.ids.size(); ++k) {
    e.ids.push_back(t.ids[k]);
    e.type_ids.push_back(type_id);
    e.tokens.push_back(t.tokens[k]);
    e.words.push_back(-1);
    e.offsets.emplace_back(0, 0);
    e.special.push_back(1);
    e.attn.push_back(1);
    e.seq.push_back(-1);
  }
}

Enc special_enc(const SpecialTok& t, int64_t type_id) {
  Enc e;
  append_special(e, t, type_id);
  return e;
}

void set_types(Enc& e, int64_t t, bool overflowing_too) {
  std::fill(e.type_ids.begin(), e.type_ids.end(), t);
  if (overflowing_too)
    for (auto& o : e.overflowing) set_types(o, t, true);
}

struct TemplateProc : PostProcessor {
  std::vector<TemplatePiece> single, pair;
  std::unordered_map<std::string, SpecialTok> specials;
  // RobertaProcessing: offsets trimmed first, every type id 0 (overflowing too).
  bool roberta = false, trim = false, add_prefix_space = false;
  size_t count(const std::vector<TemplatePiece>& t) const {
    size_t n = 0;
    for (const auto& p : t)
      if (!p.is_seq) n += specials.at(p.token).ids.size();
    return n;
  }
  size_t added_tokens(bool is_pair) const override { return count(is_pair ? pair : single); }
  void process(std::vector<Enc>& encs, bool add_special) const override {
    if (trim)
      for (auto& e : encs) {
        trim_offsets(e, add_prefix_space);
        for (auto& o : e.overflowing) trim_offsets(o, add_prefix_space);
      }
    if (roberta) {
      for (auto& e : encs) set_types(e, 0, true);
      if (!add_special) return;
    }
    if (!add_special && !roberta) {
      // The template still sets each sequence's type id, specials left out.
    }
    const auto& tpl = encs.size() == 2 ? pair : single;
    if (std::all_of(encs.begin(), encs.end(), [](const Enc& e) { return e.overflowing.empty(); })) {
      // No overflowing windows: the template's pieces appended into one encoding, what merging gives.
      size_t n = 0, pieces = 0, uses[2] = {0, 0};  // a sequence is moved into its last use, copied before
      for (const auto& p : tpl) {
        if (p.is_seq) {
          n += encs.at(static_cast<size_t>(p.seq)).size();
          ++uses[p.seq];
          ++pieces;
        } else if (add_special) {
          n += specials.at(p.token).ids.size();
          ++pieces;
        }
      }
      Enc out;
      out.reserve(n);
      for (const auto& p : tpl) {
        if (p.is_seq) {
          const size_t k = static_cast<size_t>(p.seq), at = out.size();
          out.append(--uses[k] == 0 ? std::move(encs[k]) : Enc(encs[k]));
          std::fill(out.type_ids.begin() + static_cast<std::ptrdiff_t>(at), out.type_ids.end(), p.type_id);
        } else if (add_special) {
          append_special(out, specials.at(p.token), p.type_id);
        }
      }
      encs.clear();
      if (pieces) encs.push_back(std::move(out));
      return;
    }
    std::vector<Enc> out;
    size_t uses[2] = {0, 0};  // a sequence is moved into its last use, copied before
    for (const auto& p : tpl)
      if (p.is_seq && static_cast<size_t>(p.seq) < encs.size()) ++uses[p.seq];
    for (const auto& p : tpl) {
      if (p.is_seq) {
        const size_t k = static_cast<size_t>(p.seq);
        Enc e;
        if (--uses[k] == 0)
          e = std::move(encs.at(k));
        else
          e = encs.at(k);
        std::fill(e.type_ids.begin(), e.type_ids.end(), p.type_id);
        out.push_back(std::move(e));
      } else if (add_special) {
        out.push_back(special_enc(specials.at(p.token), p.type_id));
      }
    }
    encs = std::move(out);
  }
};

struct ByteLevelProc : PostProcessor {
  bool trim = true, add_prefix_space = true;
  size_t added_tokens(bool) const override { return 0; }
  void process(std::vector<Enc>& encs, bool) const override {
    if (!trim) return;
    for (auto& e : encs) {
      trim_offsets(e, add_prefix_space);
      for (auto& o : e.overflowing) trim_offsets(o, add_prefix_space);
    }
  }
};

struct SequenceProc : PostProcessor {
  std::vector<std::unique_ptr<PostProcessor>> items;
  size_t added_tokens(bool p) const override {
    size_t n = 0;
    for (const auto& x : items) n += x->added_tokens(p);
    return n;
  }
  void process(std::vector<Enc>& encs, bool add_special) const override {
    for (const auto& x : items) x->process(encs, add_special);
  }
};

std::vector<TemplatePiece> parse_template(const json& j, const std::string& where) {
  std::vector<TemplatePiece> out;
  auto piece_of = [&](const std::string& s) {
    TemplatePiece p{false, 0, "", 0};
    std::string name = s;
    if (auto c = s.rfind(':'); c != std::string::npos && c + 1 < s.size() &&
                               std::all_of(s.begin() + static_cast<std::ptrdiff_t>(c) + 1, s.end(), ::isdigit)) {
      p.type_id = std::stoll(s.substr(c + 1));
      name = s.substr(0, c);
    }
    if (name == "$A" || name == "$a" || name == "$") {
      p.is_seq = true;
      p.seq = 0;
    } else if (name == "$B" || name == "$b") {
      p.is_seq = true;
      p.seq = 1;
    } else if (!name.empty() && name[0] == '$' && std::all_of(name.begin() + 1, name.end(), ::isdigit)) {
      p.is_seq = true;
      p.seq = 0;
      p.type_id = std::stoll(name.substr(1));
    } else {
      p.token = name;
    }
    return p;
  };
  if (j.is_string()) {
    std::string s = j.get<std::string>();
    size_t i = 0;
    while (i < s.size()) {
      size_t k = s.find(' ', i);
      if (k == std::string::npos) k = s.size();
      if (k > i) out.push_back(piece_of(s.substr(i, k - i)));
      i = k + 1;
    }
    return out;
  }
  if (!j.is_array()) throw invalid_file(where, "template must be a list or a string");
  for (const auto& e : j) {
    if (auto s = e.find("Sequence"); s != e.end()) {
      const std::string id = get_str(*s, "id", where);
      if (id != "A" && id != "B") throw invalid_file(where, "template sequence id must be \"A\" or \"B\", got \"" + id + "\"");
      auto t = io::json_int64(field(*s, "type_id", where));
      if (!t) throw invalid_file(where, "template type_id must be an integer");
      out.push_back({true, id == "A" ? 0 : 1, "", *t});
    } else if (auto sp = e.find("SpecialToken"); sp != e.end()) {
      auto t = io::json_int64(field(*sp, "type_id", where));
      if (!t) throw invalid_file(where, "template type_id must be an integer");
      out.push_back({false, 0, get_str(*sp, "id", where), *t});
    } else {
      throw invalid_file(where, "template piece must be {\"Sequence\": ...} or {\"SpecialToken\": ...}, got " + io::json_brief(e));
    }
  }
  return out;
}

std::pair<std::string, int64_t> tok_pair(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !io::json_int64(v[1]))
    throw invalid_file(where, std::string("\"") + key + "\" must be [token, id], got " + io::json_brief(v));
  return {v[0].get<std::string>(), *io::json_int64(v[1])};
}

}  // namespace

// ------------------------------------------------------------------ factories

std::unique_ptr<Normalizer> make_normalizer(const json& j, const std::string& where) {
  const std::string type = type_of(j, where);
  const std::string w = where + " (" + type + ")";
  if (type == "BertNormalizer") {
    auto n = std::make_unique<BertNorm>();
    n->clean = get_bool(j, "clean_text", w, true);
    n->chinese = get_bool(j, "handle_chinese_chars", w, true);
    n->lower = get_bool(j, "lowercase", w, true);
    auto s = j.find("strip_accents");
    n->strip = (s == j.end() || s->is_null()) ? n->lower : get_bool(j, "strip_accents", w);
    return n;
  }
  if (type == "NFC") return std::make_unique<UnicodeNorm>(true, false);
  if (type == "NFD") return std::make_unique<UnicodeNorm>(false, false);
  if (type == "NFKC") return std::make_unique<UnicodeNorm>(true, true);
  if (type == "NFKD") return std::make_unique<UnicodeNorm>(false, true);
  if (type == "Lowercase") return std::make_unique<LowercaseNorm>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNorm>();
  if (type == "Strip") return std::make_unique<StripNorm>(get_bool(j, "strip_left", w, true), get_bool(j, "strip_right", w, true));
  if (type == "Nmt") return std::make_unique<NmtNorm>();
  if (type == "Precompiled") return make_precompiled(j, w);
  if (type == "Replace") {
    auto n = std::make_unique<ReplaceNorm>();
    n->pattern = Pattern::parse(field(j, "pattern", w), w);
    n->content = to_u32(get_str(j, "content", w));
    return n;
  }
  if (type == "Prepend") {
    auto n = std::make_unique<PrependNorm>();
    n->prefix = to_u32(get_str(j, "prepend", w));
    return n;
  }
  if (type == "Sequence") {
    auto n = std::make_unique<SequenceNorm>();
    const json& items = field(j, "normalizers", w);
    if (!items.is_array()) throw invalid_file(w, "\"normalizers\" must be a list");
    for (size_t i = 0; i < items.size(); ++i) n->items.push_back(make_normalizer(items[i], where + ".normalizers[" + std::to_string(i) + "]"));
    return n;
  }
  throw unsupported(where + ": normalizer type \"" + type + "\" is not supported");
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const std::string& where) {
  const std::string type = type_of(j, where);
  const std::string w = where + " (" + type + ")";
  if (type == "BertPreTokenizer") return std::make_unique<BertPre>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPre>();
  if (type == "Whitespace") return std::make_unique<WhitespacePre>();
  if (type == "Punctuation") {
    auto p = std::make_unique<PunctuationPre>();
    if (auto b = j.find("behavior"); b != j.end()) p->behavior = parse_behavior(*b, w);
    return p;
  }
  if (type == "Digits") {
    auto p = std::make_unique<DigitsPre>();
    p->individual = get_bool(j, "individual_digits", w, false);
    return p;
  }
  if (type == "CharDelimiterSplit") {
    auto p = std::make_unique<CharDelimPre>();
    p->delim = one_char(get_str(j, "delimiter", w), w, "delimiter");
    return p;
  }
  if (type == "Split") {
    auto p = std::make_unique<RegexSplitPre>();
    p->pattern = Pattern::parse(field(j, "pattern", w), w);
    p->behavior = parse_behavior(field(j, "behavior", w), w);
    p->invert = get_bool(j, "invert", w, false);
    return p;
  }
  if (type == "ByteLevel") {
    auto p = std::make_unique<ByteLevelPre>();
    p->add_prefix_space = get_bool(j, "add_prefix_space", w, true);
    p->use_regex = get_bool(j, "use_regex", w, true);
    return p;
  }
  if (type == "Metaspace") {
    auto p = std::make_unique<MetaspacePre>();
    p->repl = one_char(get_str(j, "replacement", w), w, "replacement");
    p->scheme = parse_prepend(j, w);
    p->split = get_bool(j, "split", w, true);
    return p;
  }
  if (type == "Sequence") {
    auto p = std::make_unique<SequencePre>();
    const json& items = field(j, "pretokenizers", w);
    if (!items.is_array()) throw invalid_file(w, "\"pretokenizers\" must be a list");
    for (size_t i = 0; i < items.size(); ++i)
      p->items.push_back(make_pre_tokenizer(items[i], where + ".pretokenizers[" + std::to_string(i) + "]"));
    return p;
  }
  throw unsupported(where + ": pre_tokenizer type \"" + type + "\" is not supported");
}

std::unique_ptr<Decoder> make_decoder(const json& j, const std::string& where) {
  const std::string type = type_of(j, where);
  const std::string w = where + " (" + type + ")";
  if (type == "WordPiece") {
    auto d = std::make_unique<WordPieceDec>();
    if (j.contains("prefix")) d->prefix = get_str(j, "prefix", w);
    d->cleanup = get_bool(j, "cleanup", w, true);
    return d;
  }
  if (type == "ByteLevel") return std::make_unique<ByteLevelDec>();
  if (type == "Metaspace") {
    auto d = std::make_unique<MetaspaceDec>();
    d->repl = one_char(get_str(j, "replacement", w), w, "replacement");
    d->scheme = parse_prepend(j, w);
    return d;
  }
  if (type == "BPEDecoder") {
    auto d = std::make_unique<BPEDec>();
    if (j.contains("suffix")) d->suffix = get_str(j, "suffix", w);
    return d;
  }
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDec>();
  if (type == "Fuse") return std::make_unique<FuseDec>();
  if (type == "Strip") {
    auto d = std::make_unique<StripDec>();
    d->content = to_u32(get_str(j, "content", w));
    if (d->content.size() != 1) throw invalid_file(w, "\"content\" must be one character");
    auto a = io::json_int64(field(j, "start", w)), b = io::json_int64(field(j, "stop", w));
    if (!a || !b || *a < 0 || *b < 0) throw invalid_file(w, "\"start\"/\"stop\" must be non-negative integers");
    d->start = static_cast<size_t>(*a);
    d->stop = static_cast<size_t>(*b);
    return d;
  }
  if (type == "Replace") {
    auto d = std::make_unique<ReplaceDec>();
    d->pattern = Pattern::parse(field(j, "pattern", w), w);
    d->content = to_u32(get_str(j, "content", w));
    return d;
  }
  if (type == "CTC") {
    auto d = std::make_unique<CTCDec>();
    if (j.contains("pad_token")) d->pad = get_str(j, "pad_token", w);
    if (j.contains("word_delimiter_token")) d->delim = get_str(j, "word_delimiter_token", w);
    d->cleanup = get_bool(j, "cleanup", w, true);
    return d;
  }
  if (type == "Sequence") {
    auto d = std::make_unique<SequenceDec>();
    const json& items = field(j, "decoders", w);
    if (!items.is_array()) throw invalid_file(w, "\"decoders\" must be a list");
    for (size_t i = 0; i < items.size(); ++i) d->items.push_back(make_decoder(items[i], where + ".decoders[" + std::to_string(i) + "]"));
    return d;
  }
  throw unsupported(where + ": decoder type \"" + type + "\" is not supported");
}

std::unique_ptr<PostProcessor> make_post_processor(const json& j, const std::string& where,
                                                   const std::function<std::optional<int64_t>(const std::string&)>& tok_id) {
  const std::string type = type_of(j, where);
  const std::string w = where + " (" + type + ")";
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    auto p = std::make_unique<TemplateProc>();
    auto [cls, cls_id] = tok_pair(j, "cls", w);
    auto [sep, sep_id] = tok_pair(j, "sep", w);
    p->specials[cls] = {{cls_id}, {cls}};
    p->specials[sep] = {{sep_id}, {sep}};
    if (type == "BertProcessing") {
      p->single = {{false, 0, cls, 0}, {true, 0, "", 0}, {false, 0, sep, 0}};
      p->pair = {{false, 0, cls, 0}, {true, 0, "", 0}, {false, 0, sep, 0}, {true, 1, "", 1}, {false, 0, sep, 1}};
    } else {
      p->roberta = true;
      p->trim = get_bool(j, "trim_offsets", w, true);
      p->add_prefix_space = get_bool(j, "add_prefix_space", w, true);
      p->single = {{false, 0, cls, 0}, {true, 0, "", 0}, {false, 0, sep, 0}};
      p->pair = {{false, 0, cls, 0}, {true, 0, "", 0}, {false, 0, sep, 0},
                 {false, 0, sep, 0}, {true, 1, "", 0}, {false, 0, sep, 0}};
    }
    return p;
  }
  if (type == "TemplateProcessing") {
    auto p = std::make_unique<TemplateProc>();
    p->single = parse_template(field(j, "single", w), w + ".single");
    p->pair = parse_template(field(j, "pair", w), w + ".pair");
    const json& st = field(j, "special_tokens", w);
    if (!st.is_object()) throw invalid_file(w, "\"special_tokens\" must be an object");
    for (auto it = st.begin(); it != st.end(); ++it) {
      SpecialTok t;
      const json& ids = field(*it, "ids", w + ".special_tokens." + it.key());
      const json& toks = field(*it, "tokens", w + ".special_tokens." + it.key());
      if (!ids.is_array() || !toks.is_array() || ids.size() != toks.size())
        throw invalid_file(w, "special token \"" + it.key() + "\": \"ids\" and \"tokens\" must be lists of the same length");
      for (size_t k = 0; k < ids.size(); ++k) {
        auto id = io::json_int64(ids[k]);
        if (!id || !toks[k].is_string()) throw invalid_file(w, "special token \"" + it.key() + "\": bad id or token");
        t.ids.push_back(*id);
        t.tokens.push_back(toks[k].get<std::string>());
      }
      p->specials[it.key()] = std::move(t);
    }
    for (const auto* tpl : {&p->single, &p->pair})
      for (const auto& piece : *tpl)
        if (!piece.is_seq && !p->specials.count(piece.token)) {
          // The library accepts a template token missing from special_tokens if the vocab has it.
          auto id = tok_id(piece.token);
          if (!id) throw invalid_file(w, "template uses \"" + piece.token + "\", which is not in special_tokens");
          p->specials[piece.token] = {{*id}, {piece.token}};
        }
    return p;
  }
  if (type == "ByteLevel") {
    auto p = std::make_unique<ByteLevelProc>();
    p->trim = get_bool(j, "trim_offsets", w, true);
    p->add_prefix_space = get_bool(j, "add_prefix_space", w, true);
    return p;
  }
  if (type == "Sequence") {
    auto p = std::make_unique<SequenceProc>();
    const json& items = field(j, "processors", w);
    if (!items.is_array()) throw invalid_file(w, "\"processors\" must be a list");
    for (size_t i = 0; i < items.size(); ++i)
      p->items.push_back(make_post_processor(items[i], where + ".processors[" + std::to_string(i) + "]", tok_id));
    return p;
  }
  throw unsupported(where + ": post_processor type \"" + type + "\" is not supported");
}

}  // namespace bertcpp::hf
