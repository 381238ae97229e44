#!/usr/bin/env python3
"""Mixed-length corpus for the streaming memory check (docs/scale.md): LINES lines of 0-120 words
drawn from a WordPiece vocab (whole words only), 10 % of the lines blank, fixed seed, so every
real-token count up to ~150 occurs. Standard library only.

  bench/make_mixed_corpus.py LINES OUT [--vocab tests/data/models/tiny-bert/vocab.txt] [--seed 1]
"""
import argparse
import random


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("lines", type=int)
    ap.add_argument("out")
    ap.add_argument("--vocab", default="tests/data/models/tiny-bert/vocab.txt")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-words", type=int, default=120)
    a = ap.parse_args()
    with open(a.vocab, encoding="utf-8") as f:
        words = [w.strip() for w in f if w.strip().isalpha() and w.strip().isascii()]
    if not words:
        raise SystemExit(f"make_mixed_corpus: no plain words in {a.vocab}")
    rng = random.Random(a.seed)
    with open(a.out, "w", encoding="utf-8") as out:
        for _ in range(a.lines):
            n = 0 if rng.random() < 0.1 else rng.randint(1, a.max_words)
            out.write(" ".join(rng.choice(words) for _ in range(n)) + "\n")


if __name__ == "__main__":
    main()
