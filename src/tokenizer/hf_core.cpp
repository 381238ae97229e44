// NormalizedString with alignments, Unicode properties as the Rust library has them, Oniguruma
// regexes and the split behaviors.
#include <algorithm>
#include <cstring>
#include <vector>
#include <mutex>

#include <oniguruma.h>
#include <utf8proc.h>

#include "bertcpp/error.h"
#include "tokenizer/hf.hpp"
#include "io/json_util.h"
#include "tokenizer/unicode.hpp"

namespace bertcpp::hf {

namespace {
#include "tokenizer/hf_unicode_tables.inc"

template <size_t N>
bool in_ranges(const uint32_t (&r)[N][2], char32_t c) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (r[mid][1] < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < N && r[lo][0] <= c && c <= r[lo][1];
}

template <size_t N>
const uint32_t* find_map(const uint32_t (&m)[N][3], char32_t c) {
  size_t lo = 0, hi = N;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (m[mid][0] < c)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo < N && m[lo][0] == c ? m[lo] : nullptr;
}

// Flags for the ASCII/Latin-1 fast path.
struct Latin1 {
  uint8_t f[256] = {};
  Latin1() {
    for (int c = 0; c < 256; ++c) {
      f[c] = (in_ranges(kHfDrop, c) ? 1 : 0) | (in_ranges(kHfSpace, c) ? 2 : 0) | (in_ranges(kHfPunct, c) ? 4 : 0) |
             (in_ranges(kHfMn, c) ? 8 : 0);
    }
  }
};
const Latin1& latin1() {
  static const Latin1 t;
  return t;
}
}  // namespace

bool is_bert_drop(char32_t c) { return c < 256 ? latin1().f[c] & 1 : in_ranges(kHfDrop, c); }
bool is_bert_space(char32_t c) { return c < 256 ? latin1().f[c] & 2 : in_ranges(kHfSpace, c); }
bool is_bert_punct(char32_t c) { return c < 256 ? latin1().f[c] & 4 : in_ranges(kHfPunct, c); }
bool is_mn(char32_t c) { return c < 256 ? latin1().f[c] & 8 : in_ranges(kHfMn, c); }
bool is_combining_mark(char32_t c) { return c >= 0x300 && in_ranges(kHfMark, c); }

uint8_t onig_class(char32_t c) {
  // Two stages: 256-code-point blocks; the uniform ones (most of them) share one of four blocks.
  struct Table {
    std::vector<uint16_t> block;  // code point >> 8 -> index into cls / 256
    std::vector<uint8_t> cls;
    Table() {
      std::vector<uint8_t> all(0x110000, 0);
      auto mark = [&](const auto& ranges, uint8_t v) {
        for (const auto& r : ranges)
          for (uint32_t x = r[0]; x <= r[1]; ++x) all[x] = v;
      };
      mark(kHfOnigLetter, 1);
      mark(kHfOnigNumber, 2);
      mark(kHfOnigSpace, 3);
      cls.resize(4 * 256);
      for (size_t v = 0; v < 4; ++v) std::fill_n(cls.begin() + static_cast<std::ptrdiff_t>(v * 256), 256, static_cast<uint8_t>(v));
      block.resize(0x1100);
      for (size_t b = 0; b < block.size(); ++b) {
        const uint8_t* p = all.data() + b * 256;
        if (std::all_of(p, p + 256, [&](uint8_t x) { return x == p[0]; })) {
          block[b] = p[0];
        } else {
          block[b] = static_cast<uint16_t>(cls.size() / 256);
          cls.insert(cls.end(), p, p + 256);
        }
      }
    }
  };
  static const Table t;
  if (c >= 0x110000) return 0;
  return t.cls[static_cast<size_t>(t.block[c >> 8]) * 256 + (c & 0xFF)];
}
bool is_chinese(char32_t c) {
  if (c < 0x3400) return false;
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}
bool is_numeric(char32_t c) {
  if (c < 128) return c >= '0' && c <= '9';
  auto cat = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return cat == UTF8PROC_CATEGORY_ND || cat == UTF8PROC_CATEGORY_NL || cat == UTF8PROC_CATEGORY_NO;
}
bool is_word_char(char32_t c) {
  if (c < 128) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  if (c == 0x200C || c == 0x200D) return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(c))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT: case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_MN: case UTF8PROC_CATEGORY_MC: case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F189);
  }
}

void to_lower(char32_t c, std::u32string& out) {
  if (c < 128) {
    out.push_back(c >= 'A' && c <= 'Z' ? c + 32 : c);
    return;
  }
  if (const uint32_t* e = find_map(kHfLower, c)) {
    for (uint32_t i = 0; i < e[2]; ++i) out.push_back(kHfLower_pool[e[1] + i]);
    return;
  }
  out.push_back(c);
}

bool decompose(char32_t c, bool compat, std::u32string& out) {
  if (c < 0xC0) {
    if (!compat || c < 0xA0) return false;
  }
  if (c >= 0xAC00 && c <= 0xD7A3) {
    const uint32_t s = c - 0xAC00;
    out.push_back(0x1100 + s / 588);
    out.push_back(0x1161 + (s % 588) / 28);
    if (s % 28) out.push_back(0x11A7 + s % 28);
    return true;
  }
  const uint32_t* e = compat ? find_map(kHfNfkd, c) : find_map(kHfNfd, c);
  if (!e) return false;
  const uint32_t* pool = compat ? kHfNfkd_pool : kHfNfd_pool;
  for (uint32_t i = 0; i < e[2]; ++i) out.push_back(pool[e[1] + i]);
  return true;
}

int ccc(char32_t c) {
  if (c < 0x300) return 0;
  return utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
}

std::u32string to_u32(std::string_view s) { return tok::utf8_to_u32(s); }
std::string to_utf8(std::u32string_view s) { return tok::u32_to_utf8(s); }

// ------------------------------------------------------------------ NStr

void NStr::transform(size_t a, size_t b, const std::vector<std::pair<char32_t, int>>& dest, size_t initial) {
  thread_local std::u32string ns;  // scratch: swapped in whole when the whole string is transformed
  thread_local std::vector<Align> nal;
  ns.clear();
  nal.clear();
  size_t offset = a + initial;
  for (const auto& [c, change] : dest) {
    Align align;
    if (change > 0) {
      align = offset < 1 ? Align(shift, shift) : al.at(offset - 1);
    } else {
      if (offset >= al.size()) throw Error(ErrorKind::Internal, "tokenizer: normalization ran past the text");
      align = al[offset];
      offset += 1 + static_cast<size_t>(-change);
    }
    ns.push_back(c);
    nal.push_back(align);
  }
  if (a == 0 && b == s.size()) {
    s.swap(ns);
    al.swap(nal);
    trim_scratch(ns);
    trim_scratch(nal);
    return;
  }
  s.replace(a, b - a, ns);
  al.erase(al.begin() + static_cast<std::ptrdiff_t>(a), al.begin() + static_cast<std::ptrdiff_t>(b));
  al.insert(al.begin() + static_cast<std::ptrdiff_t>(a), nal.begin(), nal.end());
}

namespace {
std::vector<NStr>& spares() {
  thread_local std::vector<NStr> v;
  return v;
}
}  // namespace

NStr spare_nstr() {
  auto& v = spares();
  if (v.empty()) return NStr();
  NStr r = std::move(v.back());
  v.pop_back();
  r.s.clear();
  r.al.clear();
  r.shift = 0;
  return r;
}

void recycle(NStr&& n) {
  constexpr size_t kMaxSpares = 1024, kMaxChars = 256;  // at most ~3 MB per thread
  auto& v = spares();
  if (v.size() < kMaxSpares && n.al.capacity() > 0 && n.al.capacity() <= kMaxChars && n.s.capacity() <= kMaxChars)
    v.push_back(std::move(n));
}

NStr NStr::slice(size_t a, size_t b) const {
  NStr r = spare_nstr();
  r.s.assign(s, a, b - a);
  r.al.assign(al.begin() + static_cast<std::ptrdiff_t>(a), al.begin() + static_cast<std::ptrdiff_t>(b));
  r.shift = a < b ? al[a].first : shift;
  return r;
}

void NStr::filter(const std::function<bool(char32_t)>& keep) {
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(s.size());
  int removed = 0;
  size_t removed_start = 0;
  bool have = false;
  char32_t last = 0;
  for (char32_t c : s) {
    if (keep(c)) {
      if (have)
        t.emplace_back(last, -removed);
      else
        removed_start = static_cast<size_t>(removed);
      last = c;
      have = true;
      removed = 0;
    } else {
      ++removed;
    }
  }
  if (have) t.emplace_back(last, -removed);
  transform_all(t, removed_start);
}

void NStr::prepend(std::u32string_view p) {
  if (s.empty()) return;
  std::vector<std::pair<char32_t, int>> t;
  for (size_t i = 0; i < p.size(); ++i) t.emplace_back(p[i], i != 0 ? 1 : 0);
  t.emplace_back(s[0], 1);
  transform(0, 1, t, 0);
}

void NStr::append(std::u32string_view p) {
  std::vector<std::pair<char32_t, int>> t;
  if (!s.empty()) {
    t.emplace_back(s.back(), 0);
    for (char32_t c : p) t.emplace_back(c, 1);
    transform(s.size() - 1, s.size(), t, 0);
  } else {
    for (char32_t c : p) t.emplace_back(c, 1);
    transform(0, 0, t, 0);
  }
}

void NStr::lrstrip(bool left, bool right) {
  size_t lead = 0, trail = 0;
  if (left)
    while (lead < s.size() && is_rust_whitespace(s[lead])) ++lead;
  if (right)
    while (trail < s.size() && is_rust_whitespace(s[s.size() - 1 - trail])) ++trail;
  if (lead == 0 && trail == 0) return;
  const size_t n = s.size();
  std::vector<std::pair<char32_t, int>> t;
  for (size_t i = 0; i < n; ++i) {
    if (i < lead || i >= n - trail) continue;
    if (i == n - trail - 1)
      t.emplace_back(s[i], -static_cast<int>(trail));
    else
      t.emplace_back(s[i], 0);
  }
  transform_all(t, lead);
}

void NStr::replace(const std::vector<std::pair<size_t, size_t>>& matches, std::u32string_view content) {
  if (matches.empty()) return;
  std::u32string ns;
  std::vector<Align> nal;
  ns.reserve(s.size());
  nal.reserve(s.size());
  size_t last = 0;
  for (auto [b, e] : matches) {
    ns.append(s, last, b - last);
    nal.insert(nal.end(), al.begin() + static_cast<std::ptrdiff_t>(last), al.begin() + static_cast<std::ptrdiff_t>(b));
    const Align a = e < 1 ? Align(shift, shift) : al[e - 1];
    for (char32_t c : content) {
      ns.push_back(c);
      nal.push_back(a);
    }
    last = e;
  }
  ns.append(s, last, std::u32string::npos);
  nal.insert(nal.end(), al.begin() + static_cast<std::ptrdiff_t>(last), al.end());
  s = std::move(ns);
  al = std::move(nal);
}

namespace {
// Decomposition with (char, change) tags, then canonical ordering of each run of marks.
void decompose_tagged(const std::u32string& s, bool compat, std::vector<std::pair<char32_t, int>>& t) {
  std::u32string buf;
  for (char32_t c : s) {
    buf.clear();
    if (decompose(c, compat, buf)) {
      for (size_t i = 0; i < buf.size(); ++i) t.emplace_back(buf[i], i ? 1 : 0);
    } else {
      t.emplace_back(c, 0);
    }
  }
  size_t i = 0;
  while (i < t.size()) {
    if (ccc(t[i].first) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < t.size() && ccc(t[j].first) != 0) ++j;
    std::stable_sort(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(j),
                     [](const auto& x, const auto& y) { return ccc(x.first) < ccc(y.first); });
    i = j;
  }
}
int consumed(int tag) { return tag > 0 ? 0 : 1 - tag; }
int tag_of(int consumed_chars) { return consumed_chars == 0 ? 1 : 1 - consumed_chars; }
}  // namespace

namespace {
// Below U+00A0 every code point is its own NFC, NFD, NFKC and NFKD form.
bool all_normal_form_invariant(std::u32string_view s) {
  return std::all_of(s.begin(), s.end(), [](char32_t c) { return c < 0xA0; });
}
}  // namespace

void NStr::nfd(bool compat) {
  if (all_normal_form_invariant(s)) return;
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(s.size() + 8);
  decompose_tagged(s, compat, t);
  transform_all(t, 0);
}

void NStr::nfc(bool compat) {
  if (all_normal_form_invariant(s)) return;
  std::vector<std::pair<char32_t, int>> t;
  decompose_tagged(s, compat, t);
  // Canonical composition (utf8proc's pair data through utf8proc_map on two code points).
  auto compose = [](char32_t a, char32_t b) -> char32_t {
    if (a >= 0x1100 && a < 0x1113 && b >= 0x1161 && b < 0x1176) return 0xAC00 + ((a - 0x1100) * 21 + (b - 0x1161)) * 28;
    if (a >= 0xAC00 && a <= 0xD7A3 && (a - 0xAC00) % 28 == 0 && b > 0x11A7 && b < 0x11C3) return a + (b - 0x11A7);
    utf8proc_int32_t buf[2] = {static_cast<utf8proc_int32_t>(a), static_cast<utf8proc_int32_t>(b)};
    utf8proc_ssize_t n = utf8proc_normalize_utf32(buf, 2, static_cast<utf8proc_option_t>(UTF8PROC_COMPOSE | UTF8PROC_STABLE));
    if (n == 1) return static_cast<char32_t>(buf[0]);
    return 0;
  };
  std::vector<std::pair<char32_t, int>> out;
  out.reserve(t.size());
  long starter = -1;
  int last_ccc = -1;
  for (const auto& item : t) {
    const int cc = ccc(item.first);
    if (starter >= 0 && (last_ccc < cc || (last_ccc == 0 && out.size() == static_cast<size_t>(starter) + 1))) {
      if (char32_t comp = compose(out[static_cast<size_t>(starter)].first, item.first)) {
        auto& st = out[static_cast<size_t>(starter)];
        st.first = comp;
        st.second = tag_of(consumed(st.second) + consumed(item.second));
        continue;
      }
    }
    if (cc == 0) {
      starter = static_cast<long>(out.size());
      last_ccc = 0;
    } else {
      last_ccc = cc;
    }
    out.push_back(item);
    if (cc == 0) last_ccc = 0;
  }
  transform_all(out, 0);
}

void NStr::lowercase() {
  bool plain = true;
  for (char32_t c : s)
    if (c >= 128 || (c >= 'A' && c <= 'Z')) {
      plain = false;
      break;
    }
  if (plain) return;
  bool simple = true;
  for (char32_t c : s)
    if (c >= 128) {
      simple = false;
      break;
    }
  if (simple) {
    for (char32_t& c : s)
      if (c >= 'A' && c <= 'Z') c += 32;
    return;
  }
  std::vector<std::pair<char32_t, int>> t;
  t.reserve(s.size());
  std::u32string buf;
  for (char32_t c : s) {
    buf.clear();
    to_lower(c, buf);
    for (size_t i = 0; i < buf.size(); ++i) t.emplace_back(buf[i], i ? 1 : 0);
  }
  transform_all(t, 0);
}

// ------------------------------------------------------------------ regex

namespace {
std::once_flag g_onig_once;
}

Regex::Regex(const std::string& pattern, const std::string& where) {
  std::call_once(g_onig_once, [] {
    OnigEncoding enc = ONIG_ENCODING_UTF8;
    onig_initialize(&enc, 1);
  });
  regex_t* re = nullptr;
  OnigErrorInfo info;
  const auto* p = reinterpret_cast<const OnigUChar*>(pattern.data());
  int r = onig_new(&re, p, p + pattern.size(), ONIG_OPTION_NONE, ONIG_ENCODING_UTF8, ONIG_SYNTAX_RUBY, &info);
  if (r != ONIG_NORMAL) {
    OnigUChar msg[ONIG_MAX_ERROR_MESSAGE_LEN];
    onig_error_code_to_str(msg, r, &info);
    throw Error(ErrorKind::InvalidFile, where + ": bad regex \"" + pattern + "\": " + reinterpret_cast<char*>(msg));
  }
  re_ = re;
}

Regex::~Regex() {
  if (re_) onig_free(static_cast<regex_t*>(re_));
}

void Regex::find_all(std::u32string_view text, std::vector<std::pair<size_t, size_t>>& out) const {
  out.clear();
  thread_local std::string u;
  thread_local std::vector<uint32_t> byte_to_char;  // unused when the text is ASCII: bytes are characters
  u.clear();
  byte_to_char.clear();
  trim_scratch(u);
  trim_scratch(byte_to_char);
  const bool ascii = std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x80; });
  if (ascii) {
    for (char32_t c : text) u.push_back(static_cast<char>(c));
  } else {
    for (size_t i = 0; i < text.size(); ++i) {
      size_t before = u.size();
      tok::append_utf8(u, text[i]);
      byte_to_char.insert(byte_to_char.end(), u.size() - before, static_cast<uint32_t>(i));
    }
    byte_to_char.push_back(static_cast<uint32_t>(text.size()));
  }
  const auto to_char = [&](size_t b) { return ascii ? b : static_cast<size_t>(byte_to_char[b]); };
  auto* re = static_cast<regex_t*>(re_);
  thread_local struct Region {
    OnigRegion* r = onig_region_new();
    ~Region() { onig_region_free(r, 1); }
  } region_holder;
  OnigRegion* region = region_holder.r;
  const auto* start = reinterpret_cast<const OnigUChar*>(u.data());
  const auto* end = start + u.size();
  size_t pos = 0;
  while (pos <= u.size()) {
    int r = onig_search(re, start, end, start + pos, end, region, ONIG_OPTION_NONE);
    if (r < 0) break;
    const size_t b = static_cast<size_t>(region->beg[0]), e = static_cast<size_t>(region->end[0]);
    out.emplace_back(to_char(b), to_char(e));
    if (e == b) {
      // Empty match: step over one code point.
      if (b >= u.size()) break;
      size_t next = b + 1;
      while (next < u.size() && (static_cast<unsigned char>(u[next]) & 0xC0) == 0x80) ++next;
      pos = next;
    } else {
      pos = e;
    }
  }
}

// ------------------------------------------------------------------ splitting

void cover(const std::vector<std::pair<size_t, size_t>>& found, size_t n, Matches& m) {
  m.clear();
  if (n == 0) {
    m.emplace_back(0, 0, false);
    return;
  }
  size_t prev = 0;
  for (auto [b, e] : found) {
    if (prev != b) m.emplace_back(prev, b, false);
    m.emplace_back(b, e, true);
    prev = e;
  }
  if (prev != n) m.emplace_back(prev, n, false);
}

void split_by(const NStr& n, const Matches& matches, SplitBehavior behavior, std::vector<Split>& out) {
  thread_local std::vector<std::tuple<size_t, size_t, bool>> sp;  // (b, e, remove)
  sp.clear();
  trim_scratch(sp);
  switch (behavior) {
    case SplitBehavior::Isolated:
      for (auto [b, e, m] : matches) sp.emplace_back(b, e, false);
      break;
    case SplitBehavior::Removed:
      for (auto [b, e, m] : matches) sp.emplace_back(b, e, m);
      break;
    case SplitBehavior::Contiguous: {
      bool prev = false;
      for (auto [b, e, m] : matches) {
        if (m == prev && !sp.empty())
          std::get<1>(sp.back()) = e;
        else
          sp.emplace_back(b, e, false);
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithPrevious: {
      bool prev = false;
      for (auto [b, e, m] : matches) {
        if (m && !prev && !sp.empty())
          std::get<1>(sp.back()) = e;
        else
          sp.emplace_back(b, e, false);
        prev = m;
      }
      break;
    }
    case SplitBehavior::MergedWithNext: {
      bool prev = false;
      for (auto it = matches.rbegin(); it != matches.rend(); ++it) {
        auto [b, e, m] = *it;
        if (m && !prev && !sp.empty())
          std::get<0>(sp.back()) = b;
        else
          sp.emplace_back(b, e, false);
        prev = m;
      }
      std::reverse(sp.begin(), sp.end());
      break;
    }
  }
  for (auto [b, e, remove] : sp)
    if (!remove && b < e) {
      out.emplace_back();
      out.back().n = n.slice(b, e);
    }
}

// ------------------------------------------------------------------ JSON helpers

const json& field(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end()) throw invalid_file(where, std::string("missing field \"") + key + "\"");
  return *it;
}

std::string get_str(const json& j, const char* key, const std::string& where) {
  const json& v = field(j, key, where);
  if (!v.is_string()) throw invalid_file(where, std::string("\"") + key + "\" must be a string, got " + io::json_brief(v));
  return v.get<std::string>();
}

bool get_bool(const json& j, const char* key, const std::string& where, std::optional<bool> dflt) {
  auto it = j.find(key);
  if (it == j.end() || (it->is_null() && dflt)) {
    if (dflt) return *dflt;
    throw invalid_file(where, std::string("missing field \"") + key + "\"");
  }
  if (!it->is_boolean()) throw invalid_file(where, std::string("\"") + key + "\" must be true or false, got " + io::json_brief(*it));
  return it->get<bool>();
}

}  // namespace bertcpp::hf
