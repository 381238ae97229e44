#!/work/venv/tok/bin/python
"""Generates src/tokenizer/hf_unicode_tables.inc: the per-code-point properties the Rust `tokenizers`
library uses, read off the library itself (its Python binding) so they match its (older) Unicode
data exactly — the `unicode_categories` crate behind BertNormalizer / BertPreTokenizer predates
utf8proc's Unicode version, and char::to_lowercase / unicode-normalization have their own.

Run (development time only; the output is committed), with the reference venv:
    /work/venv/tok/bin/python src/tokenizer/gen_hf_unicode_tables.py > src/tokenizer/hf_unicode_tables.inc

Probed for every code point c (surrogates excluded):
  * drop:   BertNormalizer(clean_text only) removes c (NUL, U+FFFD, is_other = Cc/Cf/Cn/Co);
  * space:  BertNormalizer(clean_text only) maps c to ' ' (c != ' ');
  * punct:  BertPreTokenizer isolates c inside "a" c "a" (ASCII punctuation or category P*);
  * mn:     BertNormalizer(strip_accents only) removes c entirely (category Mn, for NFD-stable c);
  * mark:   normalizers.StripAccents() removes c (unicode-normalization's is_combining_mark, whose
    Unicode data is older again than unicode_categories');
  * lower:  normalizers.Lowercase() of c (char::to_lowercase), when it differs from c;
  * nfd / nfkd: normalizers.NFD() / NFKD() of c, when it differs from c (Hangul syllables excepted:
    they are decomposed algorithmically, which is asserted here);
  * onig_letter / onig_number / onig_space: what \\p{L}, \\p{N} and \\s match in the library's bundled
    Oniguruma (Split with each regex, "removed"), the classes of ByteLevel's GPT-2 pattern: its Unicode
    data is newer than utf8proc's (e.g. Egyptian Hieroglyphs Extended-A, Unicode 16, are letters).
"""
import sys

import tokenizers
from tokenizers import normalizers as N
from tokenizers import pre_tokenizers as P

MAXCP = 0x110000


def cps():
    for c in range(MAXCP):
        if 0xD800 <= c <= 0xDFFF:
            continue
        yield c


def ranges(pred_set):
    out, start, prev = [], None, None
    for c in sorted(pred_set):
        if start is None:
            start = prev = c
        elif c == prev + 1:
            prev = c
        else:
            out.append((start, prev))
            start = prev = c
    if start is not None:
        out.append((start, prev))
    return out


def emit_ranges(name, s):
    r = ranges(s)
    print(f"constexpr uint32_t {name}[][2] = {{")
    line = ""
    for a, b in r:
        item = f"{{0x{a:X},0x{b:X}}},"
        if len(line) + len(item) > 110:
            print(line)
            line = ""
        line += item
    print(line)
    print("};")


def emit_map(name, m):
    pool = []
    entries = []
    for c in sorted(m):
        v = [ord(x) for x in m[c]]
        entries.append((c, len(pool), len(v)))
        pool.extend(v)
    print(f"constexpr uint32_t {name}_pool[] = {{")
    line = ""
    for v in pool:
        item = f"0x{v:X},"
        if len(line) + len(item) > 110:
            print(line)
            line = ""
        line += item
    print(line + "0};")
    print(f"constexpr uint32_t {name}[][3] = {{  // code point, start in pool, length")
    line = ""
    for c, o, n in entries:
        item = f"{{0x{c:X},{o},{n}}},"
        if len(line) + len(item) > 110:
            print(line)
            line = ""
        line += item
    print(line)
    print("};")


def onig_class(rx):
    """Code points the library's Oniguruma matches with `rx` (one code point wide)."""
    split = P.Split(tokenizers.Regex(rx), "removed")
    out = set()
    for base in range(0, MAXCP, 4096):
        cs = [c for c in range(base, min(base + 4096, MAXCP)) if not 0xD800 <= c <= 0xDFFF]
        kept = [False] * len(cs)
        for _, (a, b) in split.pre_tokenize_str("".join(chr(c) for c in cs)):  # offsets in code points
            for k in range(a, b):
                kept[k] = True
        out.update(c for c, k in zip(cs, kept) if not k)
    return out


def main():
    clean = N.BertNormalizer(clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    strip = N.BertNormalizer(clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = N.Lowercase()
    nfd = N.NFD()
    nfkd = N.NFKD()
    bert = P.BertPreTokenizer()
    strip_accents = N.StripAccents()
    drop, space, punct, mn, mark = set(), set(), set(), set(), set()
    lmap, dmap, kmap = {}, {}, {}
    for c in cps():
        ch = chr(c)
        r = clean.normalize_str(ch)
        if r == "":
            drop.add(c)
        elif r == " " and c != 0x20:
            space.add(c)
        d = nfd.normalize_str(ch)
        hangul = 0xAC00 <= c <= 0xD7A3  # decomposed algorithmically (checked below)
        if hangul:
            s_index = c - 0xAC00
            l, v, t = 0x1100 + s_index // 588, 0x1161 + (s_index % 588) // 28, 0x11A7 + s_index % 28
            want = chr(l) + chr(v) + (chr(t) if t != 0x11A7 else "")
            assert d == want and nfkd.normalize_str(ch) == want, hex(c)
        if d != ch and not hangul:
            dmap[c] = d
        k = nfkd.normalize_str(ch)
        if k != ch and not hangul:
            kmap[c] = k
        if d == ch and strip.normalize_str(ch) == "":
            mn.add(c)
        if strip_accents.normalize_str(ch) == "":
            mark.add(c)
        lo = lower.normalize_str(ch)
        if lo != ch:
            lmap[c] = lo
        if r != " " and c != 0x20:
            sp = bert.pre_tokenize_str("a" + ch + "a")
            if len(sp) == 3 and sp[1][0] == ch:
                punct.add(c)
    print(f"// Generated by gen_hf_unicode_tables.py from tokenizers {tokenizers.__version__}. Do not edit.")
    print("// Ranges are inclusive.")
    emit_ranges("kHfDrop", drop)
    emit_ranges("kHfSpace", space)
    emit_ranges("kHfPunct", punct)
    emit_ranges("kHfMn", mn)
    emit_ranges("kHfMark", mark)
    emit_ranges("kHfOnigLetter", onig_class(r"\p{L}"))
    emit_ranges("kHfOnigNumber", onig_class(r"\p{N}"))
    emit_ranges("kHfOnigSpace", onig_class(r"\s"))
    emit_map("kHfLower", lmap)
    emit_map("kHfNfd", dmap)
    emit_map("kHfNfkd", kmap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
