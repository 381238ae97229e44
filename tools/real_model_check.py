"""Accuracy of bertcpp on real trained models: parity with sentence-transformers and a retrieval check.

Run with the reference venv (torch, sentence-transformers) after scripts/fetch_real_models.sh:
    /work/venv/ref/bin/python tools/real_model_check.py [--bertcpp build/bin/bertcpp] [--models NAME ...]
For each model folder of the cache (${BERTCPP_MODELS_CACHE:-~/.cache/bertcpp/real-models}/models/NAME):
the queries and passages of tests/data/retrieval/pairs.jsonl are embedded by SentenceTransformer.encode
(fp32, torch on one thread) and by `bertcpp embed --format npy --dtype D` for D in f32, bf16, int8.
Per mode: max |Δ| over all embedding values, min cosine over texts, and, ranking every passage for each
query by dot product (the embeddings are normalized), top-1 agreement (same best passage as the
reference) and top-10 agreement (mean |top10_ref ∩ top10_mode| / 10); also recall@1 of the paired
passage, for the reference and each mode. --json FILE writes the table; --save-golden writes the
committed expected embeddings of tests/api/real_model_test.cpp. Exit status 1 if a target is missed:
f32 max |Δ| ≤ 1e-5; int8 min cosine ≥ 0.99 and top-10 agreement ≥ 0.95.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

torch.set_num_threads(1)
from sentence_transformers import SentenceTransformer  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CACHE = os.environ.get("BERTCPP_MODELS_CACHE") or os.path.join(
    os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "bertcpp", "real-models")
MODELS = ["all-MiniLM-L6-v2", "all-MiniLM-L6-v2-zip", "all-mpnet-base-v2"]
MODES = ["f32", "bf16", "int8"]
GOLDEN_TEXTS = 16  # texts per model in tests/data/real-models/NAME/


def load_pairs(path):
    with open(path, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return [r["query"] for r in rows], [r["passage"] for r in rows]


def bertcpp_embed(exe, folder, texts, dtype, threads):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "e.npy")
        stdin = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts)
        t0 = time.perf_counter()
        # the texts go in as JSON Lines on stdin: a text may hold a newline
        r = subprocess.run([exe, "embed", "-m", folder, "--input-format", "jsonl", "--format", "npy", "--dtype", dtype,
                            "-t", str(threads), "-o", out], input=stdin.encode("utf-8"), capture_output=True)
        secs = time.perf_counter() - t0
        if r.returncode != 0:
            raise RuntimeError(f"bertcpp embed -m {folder} --dtype {dtype} failed ({r.returncode}): "
                               f"{r.stderr.decode(errors='replace').strip()}")
        return np.load(out).astype(np.float64), secs


def retrieval(q, p):
    """Per query, passage indices by descending score (ties broken by index, stable)."""
    return np.argsort(-(q @ p.T), axis=1, kind="stable")


def compare(ref, got, n_queries):
    cos = np.sum(ref * got, axis=1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(got, axis=1))
    rr = retrieval(ref[:n_queries], ref[n_queries:])
    rg = retrieval(got[:n_queries], got[n_queries:])
    top1 = float(np.mean(rr[:, 0] == rg[:, 0]))
    top10 = float(np.mean([len(set(a[:10]) & set(b[:10])) / 10 for a, b in zip(rr, rg)]))
    recall1 = float(np.mean(rg[:, 0] == np.arange(n_queries)))
    return {"max_abs_diff": float(np.max(np.abs(ref - got))), "min_cosine": float(np.min(cos)),
            "top1_agreement": top1, "top10_agreement": top10, "recall_at_1": recall1}


def save_golden(name, model, texts):
    from safetensors.numpy import save_file
    d = os.path.join(ROOT, "tests", "data", "real-models", name)
    os.makedirs(d, exist_ok=True)
    emb = model.encode(texts, batch_size=len(texts), convert_to_numpy=True).astype(np.float32)
    save_file({"sentence_embedding": emb}, os.path.join(d, "expected.safetensors"))
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"generator": "tools/real_model_check.py --save-golden",
                   "reference": f"sentence-transformers {__import__('sentence_transformers').__version__}, "
                                f"torch {torch.__version__}, fp32, 1 thread",
                   "texts": texts}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"  wrote {d}/expected.safetensors [{emb.shape[0]}, {emb.shape[1]}]")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bertcpp", default=os.path.join(ROOT, "build", "bin", "bertcpp"))
    ap.add_argument("--cache", default=DEFAULT_CACHE)
    ap.add_argument("--models", nargs="*", default=MODELS)
    ap.add_argument("--pairs", default=os.path.join(ROOT, "tests", "data", "retrieval", "pairs.jsonl"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--save-golden", action="store_true")
    args = ap.parse_args()

    queries, passages = load_pairs(args.pairs)
    texts = queries + passages
    results, failures = [], []
    for name in args.models:
        folder = os.path.join(args.cache, "models", name)
        if not os.path.isdir(folder):
            sys.exit(f"{folder}: no such model folder; run scripts/fetch_real_models.sh first")
        print(f"{name}  ({len(queries)} queries, {len(passages)} passages)")
        model = SentenceTransformer(folder, device="cpu")
        t0 = time.perf_counter()
        ref = model.encode(texts, batch_size=32, convert_to_numpy=True).astype(np.float64)
        print(f"  sentence-transformers fp32: {time.perf_counter() - t0:.1f} s")
        base = compare(ref, ref, len(queries))
        results.append({"model": name, "mode": "sentence-transformers fp32", **base})
        for mode in MODES:
            got, secs = bertcpp_embed(args.bertcpp, folder, texts, mode, args.threads)
            r = {"model": name, "mode": f"bertcpp {mode}", **compare(ref, got, len(queries)), "seconds": secs}
            results.append(r)
            print(f"  {mode:5s} max|Δ| {r['max_abs_diff']:.3g}  min cos {r['min_cosine']:.6f}  "
                  f"top-1 {r['top1_agreement']:.4f}  top-10 {r['top10_agreement']:.4f}  "
                  f"recall@1 {r['recall_at_1']:.4f} (ref {base['recall_at_1']:.4f})  {secs:.1f} s")
            if mode == "f32" and not r["max_abs_diff"] <= 1e-5:
                failures.append(f"{name} f32 max|Δ| {r['max_abs_diff']:.3g} > 1e-5")
            if mode == "int8" and not (r["min_cosine"] >= 0.99 and r["top10_agreement"] >= 0.95):
                failures.append(f"{name} int8 min cos {r['min_cosine']:.4f}, top-10 {r['top10_agreement']:.4f}")
        if args.save_golden and not name.endswith("-zip"):
            step = len(queries) // (GOLDEN_TEXTS // 2)  # one query and one other topic's passage per stride
            long_text = " ".join(passages[:30])  # past max_seq_length: truncation
            save_golden(name, model, queries[::step][:GOLDEN_TEXTS // 2] +
                        passages[step // 2::step][:GOLDEN_TEXTS // 2 - 1] + [long_text])
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    for msg in failures:
        print("MISSED", msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
