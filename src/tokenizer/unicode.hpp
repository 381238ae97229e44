// Per-code-point Unicode properties exactly as CPython 3.11 (unicodedata 14.0.0) sees them, which is
// what transformers 4.19's BertTokenizer runs on. Built once, at first use, from libutf8proc plus the
// generated override tables in unicode_tables.inc (see gen_unicode_tables.py for how they are made).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bertcpp::tok {

enum : uint16_t {
  kDrop = 1 << 0,           // removed by BasicTokenizer._clean_text: NUL, U+FFFD, category C* except \t\n\r
  kWhitespace = 1 << 1,     // _is_whitespace: ' ', \t, \n, \r, category Zs (replaced by ' ')
  kPySpace = 1 << 2,        // str.isspace(): what str.split()/strip() split on
  kPunct = 1 << 3,          // _is_punctuation: ASCII 33-47, 58-64, 91-96, 123-126, category P*
  kCjk = 1 << 4,            // _is_chinese_char ranges
  kMn = 1 << 5,             // category Mn (dropped by _run_strip_accents)
  kHasLower = 1 << 6,       // str.lower(c) != c
  kHasNfd = 1 << 7,         // NFD(c) != c
  kCccNonzero = 1 << 8,     // canonical combining class != 0
  kCased = 1 << 9,          // Cased and not Case_Ignorable (final-sigma rule)
  kCaseIgnorable = 1 << 10, // Case_Ignorable (final-sigma rule)
};

constexpr int kMaxLowerLen = 2;  // longest str.lower() of one character (U+0130)
constexpr int kMaxNfdLen = 4;    // longest NFD of one character

struct UnicodeTable {
  std::vector<uint16_t> stage1;  // cp >> 8 -> block
  std::vector<uint16_t> stage2;  // block * 256 + (cp & 255) -> flags
  uint16_t flags(char32_t cp) const {
    if (cp > 0x10FFFF) return 0;
    return stage2[(size_t(stage1[cp >> 8]) << 8) | (cp & 0xFF)];
  }
};

const UnicodeTable& unicode_table();

inline uint16_t flags(char32_t cp) { return unicode_table().flags(cp); }

// Python's str.lower() of one character, no context (writes 1..kMaxLowerLen code points).
int lower_char(char32_t cp, char32_t* out);
// unicodedata.normalize('NFD', c) of one character (writes 1..kMaxNfdLen code points).
int nfd_char(char32_t cp, char32_t* out);
// unicodedata.combining(c).
int combining_class(char32_t cp);

// CPython's final-sigma test for the U+03A3 at s[i] (preceded by a cased letter, not followed by
// one, skipping case-ignorable characters both ways).
bool is_final_sigma(const char32_t* s, size_t n, size_t i);
// Python's str.lower() of a whole string (full case mapping plus the final-sigma rule).
std::u32string py_lower(std::u32string_view s);

// UTF-8 helpers. decode_utf8 follows Python's bytes.decode('utf-8', errors='replace'): every
// maximal invalid subsequence becomes one U+FFFD. byte_pos gets the start byte of each code point
// plus one final entry = text.size().
void decode_utf8(std::string_view text, std::vector<char32_t>& cps, std::vector<uint32_t>& byte_pos);
// One sequence at text[i] (i < text.size()): true with its code point when well formed; false
// otherwise, len then being the maximal invalid subpart (>= 1 byte) that becomes one U+FFFD.
bool decode_utf8_at(std::string_view text, size_t i, char32_t& cp, size_t& len);
std::u32string utf8_to_u32(std::string_view text);
void append_utf8(std::string& out, char32_t cp);
void append_utf8(std::string& out, std::u32string_view s);
std::string u32_to_utf8(std::u32string_view s);
// True when text is valid UTF-8 (no surrogates, no overlongs).
bool valid_utf8(std::string_view text);

}  // namespace bertcpp::tok
