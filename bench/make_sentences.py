#!/usr/bin/env python3
"""Corpus of real English sentences for the end-to-end embedding benchmark (bench/real.py e2e).

Source: the prose on every Debian machine: /usr/share/common-licenses/*, /usr/share/doc/*/copyright
(licence and copyright texts), then the other documentation files under /usr/share/doc (README,
NEWS, changelogs, *.txt, *.md; .gz ones decompressed; no HTML). Paragraphs are joined, split into
sentences at [.!?] followed by a space and a capital letter, cleaned, and kept when they look
like English prose (5..80 words, mostly letters, no field lines such as "Files:" or "License:"; a
field's value joins its paragraph, so a sentence in the same paragraph as a copyright-year list
fails the letters test and is dropped with it);
exact duplicates (after whitespace folding) are dropped, first occurrence kept, file order sorted.

    bench/make_sentences.py [--n 20000] [--out ~/.cache/bertcpp/bench/sentences-20000.txt]

Writes one sentence per line (UTF-8), the first N of the sorted-source order, and prints the
path and counts. Fails (exit 1) when the machine has fewer than N distinct sentences.
"""
from __future__ import annotations

import argparse
import glob
import gzip
import os
import re
import sys

SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")
DOC = re.compile(r"/(README|NEWS|changelog|CHANGES|AUTHORS|THANKS|TODO)[^/]*$|\.(txt|md|rst)(\.gz)?$", re.I)
FIELD = re.compile(r"^(Files|License|Copyright|Upstream-\w+|Source|Format|Comment|Disclaimer)\s*:", re.I)


def paragraphs(text):
    """Blocks of lines separated by blank lines (a line of '.' is a blank in debian/copyright)."""
    block = []
    for raw in text.splitlines():
        ln = raw.strip()
        if ln in ("", "."):
            if block:
                yield " ".join(block)
                block = []
            continue
        if ln[:1] in "*-+" and block:  # a changelog/README bullet starts its own block
            yield " ".join(block)
            block = []
        ln = ln.lstrip("*-+ ").strip()
        if not ln:
            continue
        if FIELD.match(ln):
            ln = FIELD.sub("", ln).strip()
            if not ln:
                continue
        block.append(ln)
    if block:
        yield " ".join(block)


def good(s):
    words = s.split()
    if not 5 <= len(words) <= 80:
        return False
    letters = sum(c.isalpha() for c in s)
    if letters < 0.7 * len(s.replace(" ", "")):
        return False  # copyright-year lists, e-mail lines, tables
    return s[0].isupper() and s[-1] in ".!?"


def sentences(paths):
    for p in paths:
        try:
            opener = gzip.open if p.endswith(".gz") else open
            with opener(p, "rt", encoding="utf-8", errors="strict") as f:
                text = f.read()
        except (OSError, EOFError, UnicodeDecodeError):
            continue  # a non-UTF-8 copyright file: skip it rather than guess its encoding
        for para in paragraphs(text):
            para = re.sub(r"\s+", " ", para)
            for s in SENT_END.split(para):
                s = s.strip()
                if good(s):
                    yield s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--out", default=os.path.expanduser("~/.cache/bertcpp/bench/sentences-20000.txt"))
    a = ap.parse_args(argv)
    paths = sorted(p for p in glob.glob("/usr/share/common-licenses/*") if os.path.isfile(p))
    paths += sorted(glob.glob("/usr/share/doc/*/copyright"))
    paths += sorted(p for p in glob.glob("/usr/share/doc/**/*", recursive=True)
                    if os.path.isfile(p) and not p.endswith("/copyright") and DOC.search(p))
    seen, out = set(), []
    for s in sentences(paths):
        if s not in seen:
            seen.add(s)
            out.append(s)
            if len(out) == a.n:
                break
    if len(out) < a.n:
        print(f"make_sentences: only {len(out)} distinct sentences in {len(paths)} files (< {a.n})",
              file=sys.stderr)
        return 1
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    words = sum(len(s.split()) for s in out)
    print(f"make_sentences: wrote {a.out}: {len(out)} sentences, {words} words, from {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
