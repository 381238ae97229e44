#include "tokenizer/unicode.hpp"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <mutex>
#include <unordered_map>

namespace bertcpp::tok {
namespace {

struct CpRange {
  char32_t first, last;
};
struct CategoryOverride {
  char32_t cp;
  const char* category;
};
struct SpaceOverride {
  char32_t cp;
  bool space;
};
template <int N>
struct SeqOverride {
  char32_t cp;
  int len;
  char32_t seq[N];
};
struct CccOverride {
  char32_t cp;
  int ccc;
};

#include "tokenizer/unicode_tables.inc"

static_assert(kMaxLower == kMaxLowerLen && kMaxNfd == kMaxNfdLen, "regenerate unicode_tables.inc");

struct Seq4 {
  uint8_t len;
  char32_t cp[4];
};

struct Data {
  UnicodeTable table;
  std::unordered_map<char32_t, Seq4> lower;  // only where lower(c) != c
  std::unordered_map<char32_t, Seq4> nfd;    // only where NFD(c) != c
  std::unordered_map<char32_t, uint8_t> ccc; // only where ccc != 0
};

bool is_cjk(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x20000 && cp <= 0x2A6DF) ||
         (cp >= 0x2A700 && cp <= 0x2B73F) || (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

// Membership of increasing code points in sorted, disjoint ranges, in O(1) amortized per query.
class RangeCursor {
 public:
  RangeCursor(const CpRange* r, size_t n) : r_(r), n_(n) {}
  bool contains(char32_t cp) {
    while (i_ < n_ && r_[i_].last < cp) ++i_;
    return i_ < n_ && r_[i_].first <= cp;
  }

 private:
  const CpRange* r_;
  size_t n_, i_ = 0;
};

// The override (if any) for increasing code points, from a list sorted here by code point.
template <class T>
class OverrideCursor {
 public:
  explicit OverrideCursor(std::vector<const T*> v) : v_(std::move(v)) {
    std::sort(v_.begin(), v_.end(), [](const T* a, const T* b) { return a->cp < b->cp; });
  }
  const T* find(char32_t cp) {
    while (i_ < v_.size() && v_[i_]->cp < cp) ++i_;
    return i_ < v_.size() && v_[i_]->cp == cp ? v_[i_] : nullptr;
  }

 private:
  std::vector<const T*> v_;
  size_t i_ = 0;
};

template <class T, class End>
std::vector<const T*> entries(const T* first, End is_end) {
  std::vector<const T*> v;
  for (const T* o = first; !is_end(*o); ++o) v.push_back(o);
  return v;
}

Data* build() {
  auto* d = new Data();
  constexpr char32_t kMax = 0x110000;
  std::vector<uint16_t> flat(kMax, 0);
  // Every lookup below is by increasing code point: cursors instead of hash maps and binary
  // searches keep this one-time build (it runs when the first tokenizer is made) fast.
  OverrideCursor<CategoryOverride> cat_over(entries(kCategoryOverrides, [](const CategoryOverride& o) { return !o.category; }));
  OverrideCursor<SpaceOverride> space_over(entries(kSpaceOverrides, [](const SpaceOverride& o) { return !o.cp; }));
  OverrideCursor<SeqOverride<kMaxLower>> lower_over(entries(kLowerOverrides, [](const SeqOverride<kMaxLower>& o) { return !o.cp; }));
  OverrideCursor<SeqOverride<kMaxNfd>> nfd_over(entries(kNfdOverrides, [](const SeqOverride<kMaxNfd>& o) { return !o.cp; }));
  OverrideCursor<CccOverride> ccc_over(entries(kCccOverrides, [](const CccOverride& o) { return !o.cp; }));
  RangeCursor unassigned(kPyUnassigned, sizeof(kPyUnassigned) / sizeof(kPyUnassigned[0]));
  RangeCursor cased(kCasedRanges, sizeof(kCasedRanges) / sizeof(kCasedRanges[0]));
  RangeCursor ignorable(kCaseIgnorableRanges, sizeof(kCaseIgnorableRanges) / sizeof(kCaseIgnorableRanges[0]));

  for (char32_t cp = 0; cp < kMax; ++cp) {
    const utf8proc_property_t* p = utf8proc_get_property(static_cast<utf8proc_int32_t>(cp));
    const bool is_unassigned = unassigned.contains(cp);
    if (is_unassigned && p->category == UTF8PROC_CATEGORY_CN && !cat_over.find(cp) && !space_over.find(cp)) {
      // Unassigned for Python and utf8proc alike (most of the 1.1M code points): dropped by
      // clean_text, no case, decomposition or combining class; only the range-based flags apply.
      flat[cp] = static_cast<uint16_t>(kDrop | (is_cjk(cp) ? kCjk : 0) | (cased.contains(cp) ? kCased : 0) |
                                       (ignorable.contains(cp) ? kCaseIgnorable : 0));
      continue;
    }
    std::string_view cat = utf8proc_category_string(static_cast<utf8proc_int32_t>(cp));
    if (const auto* o = cat_over.find(cp)) cat = o->category;
    if (is_unassigned) cat = "Cn";
    uint16_t f = 0;
    const bool tnr = cp == '\t' || cp == '\n' || cp == '\r';
    if (cp == 0 || cp == 0xFFFD || (!tnr && cat[0] == 'C')) f |= kDrop;
    if (cp == ' ' || tnr || cat == "Zs") f |= kWhitespace;
    bool space = cat == "Zs" || p->bidi_class == UTF8PROC_BIDI_CLASS_B || p->bidi_class == UTF8PROC_BIDI_CLASS_S ||
                 p->bidi_class == UTF8PROC_BIDI_CLASS_WS;
    if (const auto* o = space_over.find(cp)) space = o->space;
    if (space) f |= kPySpace;
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126) ||
        cat[0] == 'P')
      f |= kPunct;
    if (is_cjk(cp)) f |= kCjk;
    if (cat == "Mn") f |= kMn;
    if (cased.contains(cp)) f |= kCased;
    if (ignorable.contains(cp)) f |= kCaseIgnorable;

    if (cp < 0xD800 || cp > 0xDFFF) {
      // Lowercase (full mapping as Python).
      Seq4 low{};
      if (const auto* o = lower_over.find(cp)) {
        low.len = static_cast<uint8_t>(o->len);
        for (int i = 0; i < low.len; ++i) low.cp[i] = o->seq[i];
      } else {
        low.len = 1;
        low.cp[0] = static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
      }
      if (!(low.len == 1 && low.cp[0] == cp)) {
        f |= kHasLower;
        d->lower[cp] = low;
      }
      // NFD.
      Seq4 dec{};
      if (const auto* o = nfd_over.find(cp)) {
        dec.len = static_cast<uint8_t>(o->len);
        for (int i = 0; i < dec.len; ++i) dec.cp[i] = o->seq[i];
      } else {
        utf8proc_int32_t buf[8];
        int bound = 0;
        utf8proc_ssize_t n =
            utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buf, 8, UTF8PROC_DECOMPOSE, &bound);
        if (n < 1 || n > 4) {
          dec.len = 1;
          dec.cp[0] = cp;
        } else {
          dec.len = static_cast<uint8_t>(n);
          for (int i = 0; i < n; ++i) dec.cp[i] = static_cast<char32_t>(buf[i]);
        }
      }
      if (!(dec.len == 1 && dec.cp[0] == cp)) {
        f |= kHasNfd;
        d->nfd[cp] = dec;
      }
      int ccc = p->combining_class;
      if (const auto* o = ccc_over.find(cp)) ccc = o->ccc;
      if (ccc != 0) {
        f |= kCccNonzero;
        d->ccc[cp] = static_cast<uint8_t>(ccc);
      }
    }
    flat[cp] = f;
  }
  // Two-stage compression: identical 256-entry blocks are shared.
  std::map<std::vector<uint16_t>, uint16_t> blocks;
  d->table.stage1.resize(kMax >> 8);
  for (char32_t b = 0; b < (kMax >> 8); ++b) {
    std::vector<uint16_t> blk(flat.begin() + (b << 8), flat.begin() + ((b + 1) << 8));
    auto [it, inserted] = blocks.emplace(blk, static_cast<uint16_t>(blocks.size()));
    if (inserted) d->table.stage2.insert(d->table.stage2.end(), blk.begin(), blk.end());
    d->table.stage1[b] = it->second;
  }
  return d;
}

const Data& data() {
  static const Data* d = build();
  return *d;
}

}  // namespace

const UnicodeTable& unicode_table() { return data().table; }

int lower_char(char32_t cp, char32_t* out) {
  if (cp < 0x80) {
    out[0] = (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
    return 1;
  }
  if (!(flags(cp) & kHasLower)) {
    out[0] = cp;
    return 1;
  }
  const Seq4& s = data().lower.at(cp);
  for (int i = 0; i < s.len; ++i) out[i] = s.cp[i];
  return s.len;
}

int nfd_char(char32_t cp, char32_t* out) {
  if (cp < 0xC0 || !(flags(cp) & kHasNfd)) {
    out[0] = cp;
    return 1;
  }
  const Seq4& s = data().nfd.at(cp);
  for (int i = 0; i < s.len; ++i) out[i] = s.cp[i];
  return s.len;
}

int combining_class(char32_t cp) {
  if (!(flags(cp) & kCccNonzero)) return 0;
  return data().ccc.at(cp);
}

bool is_final_sigma(const char32_t* s, size_t n, size_t i) {
  size_t j = i;
  while (j > 0 && (flags(s[j - 1]) & kCaseIgnorable)) --j;
  if (j == 0 || !(flags(s[j - 1]) & kCased)) return false;
  size_t k = i + 1;
  while (k < n && (flags(s[k]) & kCaseIgnorable)) ++k;
  return !(k < n && (flags(s[k]) & kCased));
}

std::u32string py_lower(std::u32string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 0x3A3) {
      out.push_back(is_final_sigma(s.data(), s.size(), i) ? char32_t(0x3C2) : char32_t(0x3C3));
      continue;
    }
    char32_t buf[kMaxLowerLen];
    int n = lower_char(s[i], buf);
    out.append(buf, buf + n);
  }
  return out;
}

bool decode_utf8_at(std::string_view text, size_t i, char32_t& cp, size_t& len) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  const unsigned char c = s[i];
  len = 1;
  if (c < 0x80) {
    cp = c;
    return true;
  }
  size_t need;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    need = 1;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    need = 2;
    cp = c & 0x0F;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    need = 3;
    cp = c & 0x07;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return false;
  }
  // Maximal subpart: continuation bytes are consumed while valid.
  for (size_t k = 0; k < need; ++k, ++len) {
    if (i + len >= n) return false;
    const unsigned char b = s[i + len];
    if (b < (k == 0 ? lo : 0x80) || b > (k == 0 ? hi : 0xBF)) return false;
    cp = (cp << 6) | (b & 0x3F);
  }
  return true;
}

void decode_utf8(std::string_view text, std::vector<char32_t>& cps, std::vector<uint32_t>& byte_pos) {
  cps.clear();
  byte_pos.clear();
  cps.reserve(text.size());
  byte_pos.reserve(text.size() + 1);
  size_t i = 0;
  while (i < text.size()) {
    if (static_cast<unsigned char>(text[i]) < 0x80) {  // an ASCII run, written at once
      size_t e = i + 1;
      while (e < text.size() && static_cast<unsigned char>(text[e]) < 0x80) ++e;
      const size_t at = cps.size();
      cps.resize(at + (e - i));
      byte_pos.resize(at + (e - i));
      for (size_t k = i; k < e; ++k) {
        cps[at + k - i] = static_cast<unsigned char>(text[k]);
        byte_pos[at + k - i] = static_cast<uint32_t>(k);
      }
      i = e;
      continue;
    }
    char32_t cp;
    size_t len;
    const bool ok = decode_utf8_at(text, i, cp, len);
    cps.push_back(ok ? cp : 0xFFFD);
    byte_pos.push_back(static_cast<uint32_t>(i));
    i += len;
  }
  byte_pos.push_back(static_cast<uint32_t>(text.size()));
}

std::u32string utf8_to_u32(std::string_view text) {
  std::vector<char32_t> cps;
  std::vector<uint32_t> pos;
  decode_utf8(text, cps, pos);
  return std::u32string(cps.begin(), cps.end());
}

void append_utf8(std::string& out, char32_t cp) { append_utf8(out, std::u32string_view(&cp, 1)); }

void append_utf8(std::string& out, std::u32string_view s) {
  size_t n = 0;
  for (char32_t c : s) n += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
  const size_t at = out.size();
  out.resize(at + n);  // then written in place
  auto* p = reinterpret_cast<unsigned char*>(out.data() + at);
  for (char32_t c : s) {
    if (c < 0x80) {
      *p++ = static_cast<unsigned char>(c);
    } else if (c < 0x800) {
      *p++ = static_cast<unsigned char>(0xC0 | (c >> 6));
      *p++ = static_cast<unsigned char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      *p++ = static_cast<unsigned char>(0xE0 | (c >> 12));
      *p++ = static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F));
      *p++ = static_cast<unsigned char>(0x80 | (c & 0x3F));
    } else {
      *p++ = static_cast<unsigned char>(0xF0 | (c >> 18));
      *p++ = static_cast<unsigned char>(0x80 | ((c >> 12) & 0x3F));
      *p++ = static_cast<unsigned char>(0x80 | ((c >> 6) & 0x3F));
      *p++ = static_cast<unsigned char>(0x80 | (c & 0x3F));
    }
  }
}

std::string u32_to_utf8(std::u32string_view s) {
  std::string out;
  out.reserve(s.size());
  append_utf8(out, s);
  return out;
}

bool valid_utf8(std::string_view text) {
  std::vector<char32_t> cps;
  std::vector<uint32_t> pos;
  decode_utf8(text, cps, pos);
  for (size_t i = 0; i < cps.size(); ++i) {
    if (cps[i] == 0xFFFD) {
      // A genuine U+FFFD is EF BF BD.
      if (pos[i + 1] - pos[i] != 3 || static_cast<unsigned char>(text[pos[i]]) != 0xEF) return false;
    }
  }
  return true;
}

}  // namespace bertcpp::tok
