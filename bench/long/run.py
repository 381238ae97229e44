"""Long-context benchmark: ModernBERT-base (random weights, real HF layout), b1, S = 128 ... 8,192.

One command (by hand, never on CI):  bench/long/run.sh [--seqs 128,512,...] [--report-only]
Steps: (1) make the checkpoint with transformers' ModernBertModel (cached in ~/.cache/bertcpp/longctx,
~600 MB), (2) export it to ONNX (torch.onnx, dynamic sequence axis), (3) check agreement with PyTorch
fp32 at one length (bertcpp f32/bf16 and ORT), (4) time every engine at every S, one process per
measurement, one `/work/wt/cpu exclusive` turn per S (other work on the machine gets turns between
lengths), engine order rotating per S, 2 threads, (5) write docs/bench-long-context.svg and the section between
the bench:long markers of docs/benchmarks.md. Results accumulate in ~/.cache/bertcpp/longctx/results.json,
so S values can be measured in separate runs (--seqs 8192).
Engines: bertcpp f32/bf16 (`bertcpp bench`, its peak_rss_mb), PyTorch sdpa fp32 and bf16 autocast, ONNX
Runtime fp32 (bench/long/worker.py time, ru_maxrss). Peak RSS is the whole process's, loading included.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import run as bench_run  # noqa: E402  (bench/run.py: svg_chart, update_docs_block, _cpu_model)
import safetensors_np  # noqa: E402

CACHE = os.path.expanduser("~/.cache/bertcpp/longctx")
MODEL = os.path.join(CACHE, "modernbert-base-random")
ONNX = MODEL + ".onnx"
RESULTS = os.path.join(CACHE, "results.json")
REF_PY = "/work/venv/ref/bin/python"
EXTRA_VENV = os.path.expanduser("~/.cache/bertcpp/venv-longctx")
GATE = "/work/wt/cpu"
SEQS = [128, 512, 1024, 2048, 4096, 8192]
# (warm-up, timed) runs per S: the long ones take tens of seconds per forward on 2 cores.
ITERS = {128: (1, 5), 512: (1, 3), 1024: (1, 2), 2048: (1, 1), 4096: (1, 1), 8192: (0, 1)}
ENGINES = ["bertcpp-f32", "bertcpp-bf16", "torch-fp32", "torch-bf16", "ort-fp32"]
LABELS = {"bertcpp-f32": "bertcpp f32", "bertcpp-bf16": "bertcpp bf16", "torch-fp32": "PyTorch sdpa fp32",
          "torch-bf16": "PyTorch sdpa bf16", "ort-fp32": "ONNX Runtime fp32"}


def log(msg):
    print(f"[long] {msg}", file=sys.stderr, flush=True)


def worker_env():
    env = dict(os.environ)
    site = glob.glob(os.path.join(EXTRA_VENV, "lib", "python3*", "site-packages"))
    if site:
        env["PYTHONPATH"] = site[0]
    return env


def worker(*args, gate=None, capture=False):
    argv = ([GATE, gate] if gate else []) + [REF_PY, os.path.join(HERE, "worker.py"), *args]
    r = subprocess.run(argv, env=worker_env(), check=True, text=True,
                       stdout=subprocess.PIPE if capture else None)
    return r.stdout


def ensure_artifacts():
    os.makedirs(CACHE, exist_ok=True)
    if not os.path.exists(os.path.join(MODEL, "model.safetensors")):
        log(f"making {MODEL}")
        worker("make", "--out", MODEL, gate="heavy")
    if not os.path.exists(ONNX + ".data"):  # written after the graph
        log(f"exporting {ONNX}")
        worker("export-onnx", "--model", MODEL, "--out", ONNX, gate="heavy")


def check_agreement(bertcpp, seq):
    ids = np.random.default_rng(7).integers(5, 500, size=(1, seq), dtype=np.int64)
    ids[0, 0], ids[0, -1] = 50281, 50282
    inp = os.path.join(CACHE, f"check-{seq}.safetensors")
    safetensors_np.write(inp, {"input_ids": ids, "attention_mask": np.ones_like(ids)})
    outs = {}
    for engine, model in (("torch-fp32", MODEL), ("ort-fp32", ONNX)):
        outs[engine] = os.path.join(CACHE, f"check-{seq}-{engine}.safetensors")
        worker("forward", "--engine", engine, "--model", model, "--inputs", inp, "--out", outs[engine])
    for dtype in ("f32", "bf16"):
        outs[f"bertcpp-{dtype}"] = os.path.join(CACHE, f"check-{seq}-bertcpp-{dtype}.safetensors")
        subprocess.run([bertcpp, "forward", "-m", MODEL, "--dtype", dtype, "--threads", "2",
                        "--input-ids", inp, "--out", outs[f"bertcpp-{dtype}"]], check=True, stdout=subprocess.DEVNULL)
    ref = safetensors_np.read(outs["torch-fp32"])["last_hidden_state"]
    return {e: float(np.abs(safetensors_np.read(p)["last_hidden_state"] - ref).max())
            for e, p in outs.items() if e != "torch-fp32"}


def measure(bertcpp, engine, seq):
    warm, iters = ITERS[seq]
    if engine.startswith("bertcpp"):
        out = subprocess.run([bertcpp, "bench", "-m", MODEL, "--dtype", engine.split("-")[1],
                              "--threads", "2", "--seq", str(seq), "--iters", str(iters), "--warmup", str(warm)],
                             check=True, text=True, stdout=subprocess.PIPE).stdout
        r = json.loads(out.strip().splitlines()[-1])
        return {"median_ms": r["median_ms"], "peak_rss_mb": r["peak_rss_mb"],
                "rss_after_load_mb": r["rss_after_load_mb"], "iters": iters, "warmup": warm}
    out = worker("time", "--engine", engine, "--model", ONNX if engine == "ort-fp32" else MODEL, "--seq", str(seq),
                 "--iters", str(iters), "--warmup", str(warm), capture=True)
    r = json.loads(out.strip().splitlines()[-1])
    return {k: r[k] for k in ("median_ms", "peak_rss_mb", "rss_after_load_mb", "iters", "warmup")}


def load_results():
    if os.path.exists(RESULTS):
        with open(RESULTS) as f:
            return json.load(f)
    return {"runs": {}, "agreement": None}


def save_results(res):
    with open(RESULTS + ".tmp", "w") as f:
        json.dump(res, f, indent=1)
    os.replace(RESULTS + ".tmp", RESULTS)


def report(res):
    series = {}
    for key, r in sorted(res["runs"].items(), key=lambda kv: int(kv[0].split("@")[1])):
        engine, seq = key.split("@")
        series.setdefault(LABELS[engine], []).append((int(seq), r["median_ms"]))
    cpu = bench_run._cpu_model()
    bench_run.svg_chart(os.path.join(ROOT, "docs", "bench-long-context.svg"),
                        "ModernBERT-base latency vs sequence length (b1, 2 threads)", "tokens per sequence",
                        "median latency (ms)", {LABELS[e]: series[LABELS[e]] for e in ENGINES if LABELS[e] in series},
                        subtitle=cpu, note="random weights, real layout; bench/long/run.sh")
    seqs = sorted({int(k.split("@")[1]) for k in res["runs"]})
    have = [e for e in ENGINES if any(f"{e}@{s}" in res["runs"] for s in seqs)]

    def cell(e, s, field, fmt):
        r = res["runs"].get(f"{e}@{s}")
        return fmt(r[field]) if r else "—"
    lines = [f"Machine: {cpu}. ModernBERT-base shapes (hidden 768, 22 layers, 12 heads, GeGLU 1152, global attention "
             "every 3rd layer, 128-token window elsewhere, RoPE θ 160k/10k), random weights in transformers' layout, "
             "batch 1, 2 threads, one process per measurement (engine order rotating per length), run with "
             "`bench/long/run.sh`. Timed runs per length (after warm-up runs): "
             + ", ".join(f"{s}: {ITERS[s][1]} (+{ITERS[s][0]})" for s in seqs) + ".", ""]
    if res.get("agreement"):
        a = res["agreement"]
        lines.append(f"Agreement first (max |Δ| of last_hidden_state against PyTorch fp32 at {a['seq']} tokens): "
                     + ", ".join(f"{LABELS[e]} {v:.2e}" for e, v in a["maxdiff"].items()) + ".")
        lines.append("")
    lines += ["Median latency (ms):", "", "| engine | " + " | ".join(str(s) for s in seqs) + " |",
              "|---|" + "---:|" * len(seqs)]
    lines += [f"| {LABELS[e]} | " + " | ".join(cell(e, s, "median_ms", bench_run.fmt_ms) for s in seqs) + " |"
              for e in have]
    lines += ["", "Peak RSS of the process (MiB, loading included; the model is 568 MiB of f32 weights):", "",
              "| engine | " + " | ".join(str(s) for s in seqs) + " |", "|---|" + "---:|" * len(seqs)]
    lines += [f"| {LABELS[e]} | " + " | ".join(cell(e, s, "peak_rss_mb", lambda v: f"{v:.0f}") for s in seqs) + " |"
              for e in have]
    grow = []
    for e in have:
        pts = [(s, res["runs"][f"{e}@{s}"]) for s in (2048, 4096, 8192) if f"{e}@{s}" in res["runs"]]
        if len(pts) == 3:
            d = [r["peak_rss_mb"] - r["rss_after_load_mb"] for _, r in pts]
            grow.append(f"| {LABELS[e]} | " + " | ".join(f"{v:.0f}" for v in d)
                        + f" | {d[1] / d[0]:.2f}× | {d[2] / d[1]:.2f}× |")
    if grow:
        lines += ["", "Memory above the loaded model (peak RSS − RSS after loading, MiB) — linear growth doubles with S, "
                  "quadratic quadruples:", "", "| engine | 2048 | 4096 | 8192 | 4096/2048 | 8192/4096 |",
                  "|---|---:|---:|---:|---:|---:|"] + grow
    text = "\n".join(lines) + "\n"
    if not bench_run.update_docs_block(os.path.join(ROOT, "docs", "benchmarks.md"), text, block="long"):
        log("docs/benchmarks.md has no bench:long markers; the section is printed instead")
        print(text)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bertcpp", default=os.path.join(ROOT, "build", "bin", "bertcpp"))
    p.add_argument("--seqs", default=",".join(map(str, SEQS)), help="comma list of sequence lengths to (re)measure")
    p.add_argument("--engines", default=",".join(ENGINES))
    p.add_argument("--check-seq", type=int, default=512, help="length of the agreement check (0 = skip)")
    p.add_argument("--report-only", action="store_true", help="only rewrite the chart and docs section")
    p.add_argument("--inner", choices=["check", "seq"], help=argparse.SUPPRESS)  # one gated chunk, run by main
    args = p.parse_args()
    if not os.path.exists(REF_PY):
        sys.exit(f"bench/long: the reference venv {REF_PY} is missing")
    if args.inner == "check":
        res = load_results()
        res["agreement"] = {"seq": args.check_seq, "maxdiff": check_agreement(args.bertcpp, args.check_seq)}
        log(f"agreement: {res['agreement']}")
        save_results(res)
        return
    if args.inner == "seq":  # one length, every engine, order rotating with the length's index
        seq = int(args.seqs)
        engines = [e for e in args.engines.split(",") if e]
        k = SEQS.index(seq) % len(engines)
        for engine in engines[k:] + engines[:k]:
            r = measure(args.bertcpp, engine, seq)
            log(f"{engine} S={seq}: {r}")
            res = load_results()
            res["runs"][f"{engine}@{seq}"] = r
            save_results(res)
        return
    if not args.report_only:
        ensure_artifacts()
        me = [sys.executable, os.path.abspath(__file__), "--bertcpp", args.bertcpp, "--engines", args.engines]
        if args.check_seq:
            subprocess.run([GATE, "heavy", *me, "--inner", "check", "--check-seq", str(args.check_seq)], check=True)
        for seq in (int(s) for s in args.seqs.split(",")):
            if seq not in ITERS:
                sys.exit(f"bench/long: --seqs {seq} is not one of {SEQS}")
            subprocess.run([GATE, "exclusive", *me, "--inner", "seq", "--seqs", str(seq)], check=True)
    report(load_results())


if __name__ == "__main__":
    main()
