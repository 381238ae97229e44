#!/work/venv/tok/bin/python
"""Per-thread encode speed of the Rust tokenizers library (its Python binding) on the texts
bench/tokenizer_bench.cpp uses, for comparison with `tokenizer_bench --backend fast`.

Runs with the reference venv (see tools/make_tokenizer_goldens.py), one thread:
    RAYON_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false /work/venv/tok/bin/python tools/tokenizer_speed_ref.py \
        --model tests/data/vocabs/roberta-base --mb 20
Corpus: /usr/share/common-licenses/* (sorted) concatenated and repeated up to --mb megabytes, split
on blank lines, exactly as the C++ bench builds it. Prints MB/s and tokens/s of encode_batch (what
transformers' fast tokenizers call), wall clock and per CPU-second of the process.
"""
import argparse
import os
import time

from tokenizers import Tokenizer


def corpus(mb):
    base = ""
    d = "/usr/share/common-licenses"
    for name in sorted(os.listdir(d)):
        p = os.path.join(d, name)
        if os.path.isfile(p):
            with open(p, "rb") as f:
                base += f.read().decode("utf-8", errors="replace") + "\n\n"
    text = ""
    while len(text.encode()) < mb * 1e6:
        text += base
    return [t for t in text.split("\n\n") if t]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--mb", type=float, default=20)
    ap.add_argument("--batch", type=int, default=512)
    a = ap.parse_args()
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    texts = corpus(a.mb)
    nbytes = sum(len(t.encode()) for t in texts)
    tok.encode("warm up")
    t0, c0 = time.perf_counter(), time.process_time()
    tokens = 0
    for i in range(0, len(texts), a.batch):
        for e in tok.encode_batch(texts[i:i + a.batch]):
            tokens += len(e.ids)
    s, c = time.perf_counter() - t0, time.process_time() - c0
    print(f"corpus: {nbytes / 1e6:.1f} MB in {len(texts)} texts (model {a.model}, tokenizers library)")
    print(f"encode_batch 1 thread: {nbytes / 1e6 / s:.2f} MB/s, {tokens / s:.0f} tokens/s wall ({tokens} tokens, "
          f"{s:.2f} s); per CPU-second: {nbytes / 1e6 / c:.2f} MB/s, {tokens / c:.0f} tokens/s")


if __name__ == "__main__":
    main()
