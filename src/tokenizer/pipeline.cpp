// The tokenization pipeline of transformers 4.19's slow BertTokenizer, step by step:
//   PreTrainedTokenizer.tokenize: lowercase everything except special tokens (per character),
//     split on no-split tokens (Trie), strip whitespace next to them;
//   BasicTokenizer.tokenize: clean text, space out CJK characters, split on whitespace, lowercase
//     + strip accents per word, split on punctuation;
//   WordpieceTokenizer: greedy longest match with "##" continuation pieces, [UNK] otherwise.
// Every code point keeps the index of the original code point it came from, for offsets.
#include <algorithm>
#include <cstring>

#include "tokenizer/impl.hpp"
#include "tokenizer/unicode.hpp"

namespace bertcpp::tok {

// ---------------------------------------------------------------- VocabMap
uint64_t VocabMap::hash_of(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ull ^ n;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, p + i, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  uint64_t v = 0;
  for (size_t k = 0; i + k < n; ++k) v |= uint64_t(p[i + k]) << (8 * k);
  h = (h ^ v) * 0x94D049BB133111EBull;
  h ^= h >> 29;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 32;
  return h;
}

void VocabMap::reserve(size_t n) {
  size_t cap = 16;
  while (cap < n * 2) cap <<= 1;
  if (cap > slots_.size()) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(cap, Slot{});
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t mask = slots_.size() - 1, i = s.hash & mask;
      while (slots_[i].id >= 0) i = (i + 1) & mask;
      slots_[i] = s;
    }
  }
}

void VocabMap::clear() {
  std::fill(slots_.begin(), slots_.end(), Slot{});
  arena_.clear();
  count_ = 0;
  max_key_ = 0;
}

void VocabMap::grow() { reserve(slots_.empty() ? 8 : slots_.size()); }

uint64_t VocabMap::prefix_of(const char* p, size_t n) {
  uint64_t v = 0;
  const size_t k = n < 8 ? n : 8;
  for (size_t i = 0; i < k; ++i) v |= uint64_t(static_cast<unsigned char>(p[i])) << (8 * i);
  return v;
}

bool VocabMap::match(const Slot& s, uint64_t h, std::string_view key) const {
  if (s.hash != static_cast<uint32_t>(h) || s.length != key.size()) return false;
  if (s.prefix != prefix_of(key.data(), key.size())) return false;
  return key.size() <= 8 || same(arena_.data() + s.offset + 8, key.data() + 8, key.size() - 8);
}

void VocabMap::insert(std::string_view key, int64_t id) {
  if (key.size() > UINT32_MAX || arena_.size() > UINT32_MAX - key.size()) return;
  if ((count_ + 1) * 2 > slots_.size()) grow();
  const uint64_t h = hash_of(key);
  size_t mask = slots_.size() - 1, i = h & mask;
  while (slots_[i].id >= 0) {
    if (match(slots_[i], h, key)) {
      slots_[i].id = id;
      return;
    }
    i = (i + 1) & mask;
  }
  Slot s;
  s.hash = static_cast<uint32_t>(h);
  s.offset = static_cast<uint32_t>(arena_.size());
  s.length = static_cast<uint32_t>(key.size());
  s.prefix = prefix_of(key.data(), key.size());
  s.id = id;
  arena_.append(key);
  slots_[i] = s;
  ++count_;
  max_key_ = std::max(max_key_, key.size());
}

int64_t VocabMap::find(std::string_view key) const {
  if (slots_.empty() || key.size() > max_key_) return -1;
  const uint64_t h = hash_of(key);
  size_t mask = slots_.size() - 1, i = h & mask;
  while (slots_[i].id >= 0) {
    if (match(slots_[i], h, key)) return slots_[i].id;
    i = (i + 1) & mask;
  }
  return -1;
}

// ---------------------------------------------------------------- Trie
void Trie::add(std::u32string_view word) {
  if (word.empty()) return;
  int node = 0;
  for (char32_t c : word) {
    int nx = child(node, c);
    if (nx < 0) {
      nx = static_cast<int>(nodes_.size());
      nodes_.emplace_back();
      nodes_[node].next.emplace_back(c, nx);
    }
    node = nx;
  }
  nodes_[node].terminal = true;
  const char32_t f = word[0];
  if (f < 128)
    root_ascii_[f] = true;
  else
    root_nonascii_ = true;
}

void Trie::split(const char32_t* text, size_t n, std::vector<std::pair<size_t, size_t>>& out) const {
  out.clear();
  std::vector<size_t> offsets{0};
  if (!empty()) {
    std::vector<std::pair<size_t, int>> states;  // (start, node), in insertion order
    std::vector<char> remove;
    size_t skip = 0;
    for (size_t current = 0; current < n; ++current) {
      const char32_t ch = text[current];
      if (states.empty() && !is_first_char(ch)) continue;  // nothing can happen at this position
      if (skip && current < skip) continue;
      bool reset = false;
      remove.assign(states.size(), 0);
      for (size_t si = 0; si < states.size(); ++si) {
        size_t start = states[si].first;
        const int node = states[si].second;
        if (nodes_[node].terminal) {
          // Longest match first, also looking at earlier partial matches.
          size_t end = current;
          for (size_t li = 0; li < states.size(); ++li) {
            const size_t lookstart = states[li].first;
            int looknode = states[li].second;
            size_t look;
            if (lookstart > start) break;
            if (lookstart < start) {
              look = current + 1;
              end = current + 1;
            } else {
              look = current;
              end = current;
            }
            if (nodes_[looknode].terminal) {
              start = lookstart;
              end = look;
              skip = look;
            }
            while (look < n) {
              const int nx = child(looknode, text[look]);
              if (nx < 0) break;
              looknode = nx;
              ++look;
              if (nodes_[looknode].terminal) {
                start = lookstart;
                end = look;
                skip = look;
              }
            }
          }
          offsets.push_back(start);
          offsets.push_back(end);
          reset = true;
          break;
        }
        const int nx = child(node, ch);
        if (nx >= 0)
          states[si].second = nx;
        else
          remove[si] = 1;
      }
      if (reset) {
        states.clear();
      } else {
        size_t w = 0;
        for (size_t si = 0; si < states.size(); ++si)
          if (!remove[si]) states[w++] = states[si];
        states.resize(w);
      }
      if (current >= skip) {
        const int nx = child(0, ch);
        if (nx >= 0) states.emplace_back(current, nx);
      }
    }
    for (const auto& [start, node] : states) {
      if (nodes_[node].terminal) {
        offsets.push_back(start);
        offsets.push_back(n);
        break;
      }
    }
  }
  offsets.push_back(n);
  size_t start = 0;
  for (size_t end : offsets) {
    if (start >= end) continue;  // zero-width cut, or the (logged) inconsistent cut of the original
    out.emplace_back(start, end);
    start = end;
  }
}

// ---------------------------------------------------------------- U32Set
void U32Set::add(std::string_view s) {
  std::u32string u = utf8_to_u32(s);
  if (index_.count(u)) return;
  if (!u.empty()) (u[0] < 128 ? first_ascii_[u[0]] : first_other_) = true;
  index_.emplace(u, static_cast<int>(items.size()));
  items.push_back(std::move(u));
  utf8.emplace_back(s);
}

int U32Set::find(const char32_t* p, size_t n) const {
  if (n > 0 && !(p[0] < 128 ? first_ascii_[p[0]] : first_other_)) return -1;
  auto it = index_.find(std::u32string_view(p, n));
  return it == index_.end() ? -1 : it->second;
}

namespace {

// Per-thread scratch buffers: no allocation per character or per word once warmed up.
struct Scratch {
  std::vector<char32_t> cps;
  std::vector<uint32_t> byte_pos;
  std::vector<char32_t> low;     // text after the lowercase pass
  std::vector<uint32_t> low_o;   // origin (index into cps) of each code point of `low`
  std::vector<std::pair<size_t, size_t>> frags;
  std::vector<char32_t> w;       // current word
  std::vector<uint32_t> wo;
  std::vector<char32_t> w2;
  std::vector<uint32_t> wo2;
  std::vector<int> ccc;
  std::string utf8;
  std::vector<uint32_t> bounds;
  std::vector<Piece> tmp;
};

thread_local Scratch t_scratch;

// The property table, fetched once (unicode_table() builds it on first use, thread-safely).
const UnicodeTable* g_tab = nullptr;
uint16_t g_ascii[128];

inline uint16_t fl(char32_t c) {
  // ASCII: a copy of the table's first 128 entries (same values, one load).
  if (c < 128) return g_ascii[c];
  return g_tab->flags(c);
}

}  // namespace

void init_pipeline_tables() {
  static const bool once = [] {
    g_tab = &unicode_table();
    for (char32_t c = 0; c < 128; ++c) g_ascii[c] = g_tab->flags(c);
    return true;
  }();
  (void)once;
}

namespace {

inline bool is_py_space(char32_t c) { return (fl(c) & kPySpace) != 0; }

}  // namespace
}  // namespace bertcpp::tok

namespace bertcpp {

using namespace tok;

namespace {

struct Runner {
  const Tokenizer::Impl& t;
  Scratch& s;
  std::vector<Piece>& out;

  std::pair<int64_t, int64_t> span(const uint32_t* o, size_t n) const {
    uint32_t lo = o[0], hi = o[0];
    for (size_t i = 1; i < n; ++i) {
      lo = std::min(lo, o[i]);
      hi = std::max(hi, o[i]);
    }
    return {lo, int64_t(hi) + 1};
  }

  void emit_unk(const uint32_t* o, size_t n) {
    auto [b, e] = span(o, n);
    out.push_back(Piece{t.unk_id, t.unk_token, b, e});
  }

  // WordpieceTokenizer.tokenize on one word (already free of whitespace).
  void wordpiece(const char32_t* w, const uint32_t* o, size_t n) {
    if (n == 0) return;
    if (static_cast<int64_t>(n) > t.cfg.max_input_chars_per_word) {
      emit_unk(o, n);
      return;
    }
    std::string& u = s.utf8;
    u.clear();
    s.bounds.resize(n + 1);
    uint32_t* bd = s.bounds.data();
    char32_t any = 0;
    for (size_t i = 0; i < n; ++i) any |= w[i];
    if (any < 128) {  // ASCII: one byte per code point
      u.resize(n);
      for (size_t i = 0; i < n; ++i) {
        u[i] = static_cast<char>(w[i]);
        bd[i] = static_cast<uint32_t>(i);
      }
      bd[n] = static_cast<uint32_t>(n);
    } else {
      for (size_t i = 0; i < n; ++i) {
        bd[i] = static_cast<uint32_t>(u.size());
        append_utf8(u, w[i]);
      }
      bd[n] = static_cast<uint32_t>(u.size());
    }
    const size_t first_len = out.size();
    size_t start = 0;
    while (start < n) {
      const VocabMap& m = start == 0 ? t.vocab : t.cont_vocab;
      const size_t maxb = m.max_key_bytes();
      size_t end = n;
      while (end > start && s.bounds[end] - s.bounds[start] > maxb) --end;
      int64_t id = -1;
      for (; end > start; --end) {
        id = m.find(std::string_view(u.data() + s.bounds[start], s.bounds[end] - s.bounds[start]));
        if (id >= 0) break;
      }
      if (id < 0) {
        out.resize(first_len);
        emit_unk(o, n);
        return;
      }
      auto [b, e] = span(o + start, end - start);
      out.push_back(Piece{id, t.id_to_token[static_cast<size_t>(id)], b, e});
      start = end;
    }
  }

  // BertTokenizer._tokenize's per-token step after BasicTokenizer.
  void emit_basic(const char32_t* w, const uint32_t* o, size_t n) {
    if (n == 0) return;
    if (!t.never_split_user.items.empty()) {
      int k = t.never_split_user.find(w, n);
      if (k >= 0) {
        auto [b, e] = span(o, n);
        out.push_back(Piece{t.never_split_user_ids[static_cast<size_t>(k)], t.never_split_user.utf8[static_cast<size_t>(k)], b, e});
        return;
      }
    }
    wordpiece(w, o, n);
  }

  void strip_accents(std::vector<char32_t>& w, std::vector<uint32_t>& o) {
    bool needed = false;
    for (char32_t c : w) needed |= (fl(c) & (kHasNfd | kMn | kCccNonzero)) != 0;
    if (!needed) return;
    s.w2.clear();
    s.wo2.clear();
    for (size_t i = 0; i < w.size(); ++i) {
      char32_t buf[kMaxNfdLen];
      int k = nfd_char(w[i], buf);
      for (int j = 0; j < k; ++j) {
        s.w2.push_back(buf[j]);
        s.wo2.push_back(o[i]);
      }
    }
    // Canonical ordering (stable sort of each run of non-starters by combining class).
    const size_t m = s.w2.size();
    s.ccc.resize(m);
    for (size_t i = 0; i < m; ++i) s.ccc[i] = combining_class(s.w2[i]);
    for (size_t i = 0; i < m;) {
      if (s.ccc[i] == 0) {
        ++i;
        continue;
      }
      size_t j = i;
      while (j < m && s.ccc[j] != 0) ++j;
      for (size_t a = i + 1; a < j; ++a)  // insertion sort: stable
        for (size_t b = a; b > i && s.ccc[b - 1] > s.ccc[b]; --b) {
          std::swap(s.ccc[b - 1], s.ccc[b]);
          std::swap(s.w2[b - 1], s.w2[b]);
          std::swap(s.wo2[b - 1], s.wo2[b]);
        }
      i = j;
    }
    w.clear();
    o.clear();
    for (size_t i = 0; i < m; ++i) {
      if (fl(s.w2[i]) & kMn) continue;
      w.push_back(s.w2[i]);
      o.push_back(s.wo2[i]);
    }
  }

  // One whitespace token of BasicTokenizer.tokenize (in s.w / s.wo).
  void basic_word() {
    std::vector<char32_t>& w = s.w;
    std::vector<uint32_t>& o = s.wo;
    if (w.empty()) return;
    if (t.never_split_all.find(w.data(), w.size()) >= 0) {
      emit_basic(w.data(), o.data(), w.size());
      return;
    }
    if (t.cfg.do_lower_case) {
      bool has_upper = false;
      for (char32_t c : w) has_upper |= (fl(c) & kHasLower) != 0;
      if (has_upper) {
        // token.lower() on the whole token (final sigma included).
        s.w2.clear();
        s.wo2.clear();
        for (size_t i = 0; i < w.size(); ++i) {
          char32_t buf[kMaxLowerLen];
          int k;
          if (w[i] == 0x3A3) {
            buf[0] = is_final_sigma(w.data(), w.size(), i) ? char32_t(0x3C2) : char32_t(0x3C3);
            k = 1;
          } else {
            k = lower_char(w[i], buf);
          }
          for (int j = 0; j < k; ++j) {
            s.w2.push_back(buf[j]);
            s.wo2.push_back(o[i]);
          }
        }
        w.swap(s.w2);
        o.swap(s.wo2);
      }
      if (t.strip_accents_on) strip_accents(w, o);
    } else if (t.strip_accents_on) {
      strip_accents(w, o);
    }
    // _run_split_on_punc
    if (t.never_split_all.find(w.data(), w.size()) >= 0) {
      emit_basic(w.data(), o.data(), w.size());
      return;
    }
    size_t i = 0;
    const size_t n = w.size();
    while (i < n) {
      if (fl(w[i]) & kPunct) {
        emit_basic(&w[i], &o[i], 1);
        ++i;
        continue;
      }
      size_t j = i;
      while (j < n && !(fl(w[j]) & kPunct)) ++j;
      emit_basic(&w[i], &o[i], j - i);
      i = j;
    }
  }

  void flush() {
    basic_word();
    s.w.clear();
    s.wo.clear();
  }

  // BertTokenizer._tokenize on one fragment [a, b) of the lowercased text.
  void fragment(size_t a, size_t b) {
    const char32_t* L = s.low.data();
    const uint32_t* LO = s.low_o.data();
    s.w.clear();
    s.wo.clear();
    if (!t.cfg.do_basic_tokenize) {
      for (size_t i = a; i < b; ++i) {
        if (is_py_space(L[i])) {
          if (!s.w.empty()) wordpiece(s.w.data(), s.wo.data(), s.w.size());
          s.w.clear();
          s.wo.clear();
        } else {
          s.w.push_back(L[i]);
          s.wo.push_back(LO[i]);
        }
      }
      if (!s.w.empty()) wordpiece(s.w.data(), s.wo.data(), s.w.size());
      return;
    }
    const bool cjk = t.cfg.tokenize_chinese_chars;
    const bool clean = t.cfg.clean_text;
    for (size_t i = a; i < b; ++i) {
      const char32_t c = L[i];
      const uint16_t f = fl(c);
      if (clean && (f & kDrop)) continue;
      if ((clean && (f & kWhitespace)) || (f & kPySpace)) {
        if (!s.w.empty()) flush();
        continue;
      }
      if (cjk && (f & kCjk)) {
        if (!s.w.empty()) flush();
        s.w.push_back(c);
        s.wo.push_back(LO[i]);
        flush();
        continue;
      }
      s.w.push_back(c);
      s.wo.push_back(LO[i]);
    }
    if (!s.w.empty()) flush();
  }
};

}  // namespace

void Tokenizer::Impl::run(std::string_view text, std::vector<Piece>& out, std::vector<uint32_t>* byte_pos) const {
  Scratch& s = t_scratch;
  out.clear();
  decode_utf8(text, s.cps, s.byte_pos);
  if (byte_pos) *byte_pos = s.byte_pos;
  const size_t n = s.cps.size();
  // PreTrainedTokenizer.tokenize: re.sub("(special|...)|(.+?)", ...) lowercases every character
  // (one at a time, '\n' excluded since '.' does not match it) except special-token occurrences.
  // Each code point yields at most kMaxLowerLen (= 2) code points; protected spans copy 1:1.
  s.low.resize(2 * n + 1);
  s.low_o.resize(2 * n + 1);
  char32_t* lw = s.low.data();
  uint32_t* lo = s.low_o.data();
  size_t m = 0;
  const char32_t* cp = s.cps.data();
  if (cfg.do_lower_case) {
    for (size_t i = 0; i < n;) {
      const char32_t c = cp[i];
      if (c < 0x80 && !protect_ascii[c]) {  // fast path: ASCII, cannot start a special token
        lw[m] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
        lo[m++] = static_cast<uint32_t>(i++);
        continue;
      }
      if ((c < 128 ? protect_ascii[c] : protect_nonascii) &&
          std::find(protect_first.begin(), protect_first.end(), c) != protect_first.end()) {
        bool matched = false;
        for (const auto& p : protect_patterns) {
          if (p.size() <= n - i && std::equal(p.begin(), p.end(), cp + i)) {
            for (size_t k = 0; k < p.size(); ++k) {
              lw[m] = p[k];
              lo[m++] = static_cast<uint32_t>(i + k);
            }
            i += p.size();
            matched = true;
            break;
          }
        }
        if (matched) continue;
      }
      // '.' in the regex does not match '\n' (left as is); lower('\n') is '\n' anyway.
      char32_t buf[kMaxLowerLen];
      int k = lower_char(c, buf);
      for (int j = 0; j < k; ++j) {
        lw[m] = buf[j];
        lo[m++] = static_cast<uint32_t>(i);
      }
      ++i;
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      lw[i] = cp[i];
      lo[i] = static_cast<uint32_t>(i);
    }
    m = n;
  }
  s.low.resize(m);
  s.low_o.resize(m);

  Runner r{*this, s, out};
  trie.split(s.low.data(), s.low.size(), s.frags);
  if (s.frags.size() <= 1 && (s.frags.empty() || no_split.find(s.low.data(), s.low.size()) < 0)) {
    if (!s.frags.empty()) r.fragment(0, s.low.size());
    return;
  }
  // Strip whitespace around no-split tokens (str.lstrip / str.rstrip of the neighbours).
  auto& fr = s.frags;
  auto is_tok = [&](size_t k) -> int {
    return no_split.find(s.low.data() + fr[k].first, fr[k].second - fr[k].first);
  };
  for (size_t k = 0; k < fr.size(); ++k) {
    int idx = is_tok(k);
    if (idx < 0) continue;
    auto [strip_left, strip_right] = no_split_strip[static_cast<size_t>(idx)];
    if (strip_right && k + 1 < fr.size()) {
      auto& nx = fr[k + 1];
      while (nx.first < nx.second && is_py_space(s.low[nx.first])) ++nx.first;
    }
    if (strip_left && k > 0) {
      auto& pv = fr[k - 1];
      while (pv.second > pv.first && is_py_space(s.low[pv.second - 1])) --pv.second;
    }
  }
  for (size_t k = 0; k < fr.size(); ++k) {
    const auto [a, b] = fr[k];
    if (a >= b) continue;
    int idx = is_tok(k);
    if (idx >= 0) {
      auto [lo, hi] = r.span(s.low_o.data() + a, b - a);
      out.push_back(Piece{no_split_ids[static_cast<size_t>(idx)], no_split.utf8[static_cast<size_t>(idx)], lo, hi});
    } else {
      r.fragment(a, b);
    }
  }
}

}  // namespace bertcpp
