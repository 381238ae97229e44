#!/usr/bin/env python3
"""bertcpp vs the CPU leaders on REAL trained weights (issue 17): kernel latency, end to end, charts.

Run with the peers venv (scripts/setup_peers.sh), by hand, never on CI. Each step is separate so
that a shared machine can gate it (prepare/convert = heavy, timing = exclusive):
    PY=~/.cache/bertcpp/venv-peers/bin/python
    $PY bench/real.py prepare  [--model DIR]   inputs from the real corpus (bench/make_sentences.py)
    $PY bench/real.py kernel   [--model DIR]   agreement with PyTorch fp32, then interleaved timing
    $PY bench/real.py kernel --sweep           the same at b1 x 16..512 tokens (latency vs sequence length)
    $PY bench/real.py peak                     this machine's fp32 FMA peak (bench/fma_peak.cpp)
    $PY bench/real.py e2e --prepare [--model DIR]  the e2e pipelines' converted models (untimed)
    $PY bench/real.py e2e      [--model DIR] [--rounds R] [--budget S] [--subset N]
                               20,000 sentences: bertcpp embed vs the peer pipelines, R interleaved rounds
                               (order rotated per round); with --budget, run it again until the schedule
                               is done (each invocation one lock hold); --fresh starts over
    $PY bench/real.py report [--sweep]         charts docs/bench-real-*.svg + docs/benchmarks.md blocks
Results: ~/.cache/bertcpp/bench/<model>/{kernel,kernel-sweep,e2e}.json (outside the tree).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time

import numpy as np

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import run as core  # noqa: E402  (Worker, find_bertcpp, run_bertcpp_bench, cpu_busy, svg_chart)
import safetensors_np  # noqa: E402

CACHE = os.path.expanduser(os.environ.get("BERTCPP_BENCH_CACHE", "~/.cache/bertcpp/bench"))
MODELS = os.path.expanduser("~/.cache/bertcpp/real-models/models")
SENTENCES = os.path.join(CACHE, "sentences-20000.txt")
PEER_ENGINES = ["torch-fp32", "torch-bf16", "ort-fp32", "ort-int8", "ort-int8pc", "ort-opt-fp32",
                "ort-opt-int8",
                "ov-fp32", "ov-int8", "ct2-int8", "llama-f32", "llama-f16", "llama-q8_0"]
BERTCPP_DTYPES = ["f32", "bf16", "int8"]
SHAPES = [("b1x128", 1, 128, 20), ("b32x128", 32, 128, 3)]  # name, batch, seq, iters per round
# kernel --sweep: one row of real tokens at each length (latency vs sequence length), kernel-sweep.json
SWEEP = [(f"b1x{n}", 1, n, 20 if n <= 128 else 10) for n in (16, 32, 64, 128, 256, 512)]
E2E_PEERS = ["st-torch-fp32", "st-torch-bf16", "st-onnx-fp32", "st-onnx-int8", "st-openvino-fp32",
             "st-openvino-bf16", "st-openvino-int8", "fe-ort-fp32",
             "fe-ort-int8", "fe-ort-int8pc", "fe-ov-fp32", "fe-ov-int8"]
FP32_TOL = 1e-3    # max |d| of last_hidden_state (real tokens) for an fp32 peer to be timed
LOWP_COS = 0.90    # min cosine of mean-pooled rows for a bf16/int8 peer to be timed (same model)
GOOD_COS = 0.99    # issue 17's int8 accuracy target; below it a row is flagged
log = core.log


def precision(engine):
    if engine.endswith(("fp32", "f32")):
        return "fp32"
    return "bf16" if "bf16" in engine else "f16" if engine.endswith("f16") else "int8"  # q8_0: int8


def workdir(model):
    return os.path.join(CACHE, os.path.basename(os.path.normpath(model)))


def peers_python():
    return os.environ.get("PEERS_PY", sys.executable)


# ---------------------------------------------------------------- inputs
def cmd_prepare(a):
    """Token ids from the real corpus: b1x128 / b32x128 full windows, a calibration set, and a
    padded ragged batch of 8 sentences for the agreement check."""
    from tokenizers import Tokenizer
    if not os.path.exists(SENTENCES):
        subprocess.run([sys.executable, os.path.join(BENCH, "make_sentences.py"), "--out", SENTENCES],
                       check=True)
    with open(SENTENCES, encoding="utf-8") as f:
        sents = f.read().splitlines()
    tok = Tokenizer.from_file(os.path.join(a.model, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    cls_sep = tok.encode("").ids  # [CLS] [SEP] (or <s> </s>)
    stream = []
    for s in sents[:4000]:
        stream += tok.encode(s, add_special_tokens=False).ids
    w = work = workdir(a.model)
    os.makedirs(w, exist_ok=True)

    def windows(start, n, seq):
        ids = np.zeros((n, seq), dtype=np.int64)
        for i in range(n):
            body = stream[start + i * (seq - 2): start + (i + 1) * (seq - 2)]
            ids[i] = [cls_sep[0]] + body + [cls_sep[-1]]
        return ids

    def write(name, ids, mask=None):
        mask = np.ones_like(ids) if mask is None else mask
        safetensors_np.write(os.path.join(w, name), {"input_ids": ids, "attention_mask": mask,
                                                     "token_type_ids": np.zeros_like(ids)})

    write("b1x128.safetensors", windows(0, 1, 128))
    max_pos = json.load(open(os.path.join(a.model, "config.json"))).get("max_position_embeddings", 512)
    for _, _, n, _ in SWEEP:
        if n != 128 and n <= max_pos:
            write(f"b1x{n}.safetensors", windows(2000, 1, n))
    write("b32x128.safetensors", windows(126, 32, 128))
    write("calib.safetensors", windows(126 * 40, 32, 128))
    picks = [sents[i] for i in (0, 7, 100, 1000, 5000, 9000, 15000, 19999)]
    enc = [tok.encode(s).ids[:128] for s in picks]
    L = max(len(e) for e in enc)
    pad = next((i for i in (tok.token_to_id("[PAD]"), tok.token_to_id("<pad>")) if i is not None), 0)
    ids = np.full((len(enc), L), pad, dtype=np.int64)
    mask = np.zeros_like(ids)
    for i, e in enumerate(enc):
        ids[i, :len(e)] = e
        mask[i, :len(e)] = 1
    write("agree.safetensors", ids, mask)
    log(f"prepare: {work}: b1x128, b32x128, calib 32x128, agree {ids.shape} "
        f"(lengths {[len(e) for e in enc]}); {len(stream)} corpus tokens")
    return 0


# ---------------------------------------------------------------- agreement
def compare(ref_path, got_path, mask):
    r = safetensors_np.read(ref_path, as_f32=True)["last_hidden_state"]
    g = safetensors_np.read(got_path, as_f32=True)["last_hidden_state"]
    m = mask.astype(bool)
    d = float(np.abs(r[m] - g[m]).max())
    w = mask[:, :, None].astype(np.float32)
    pr, pg = (r * w).sum(1) / w.sum(1), (g * w).sum(1) / w.sum(1)
    cos = (pr * pg).sum(1) / (np.linalg.norm(pr, axis=1) * np.linalg.norm(pg, axis=1))
    tr, tg = r[m], g[m]
    tcos = (tr * tg).sum(1) / (np.linalg.norm(tr, axis=1) * np.linalg.norm(tg, axis=1))
    return {"max_abs_diff": d, "min_cos_pooled": float(cos.min()), "min_cos_token": float(tcos.min())}


def agrees(engine, c):
    # llama.cpp's BERT graph computes GELU as the tanh form read from an f16 table (ggml_gelu, GGML_GELU_FP16),
    # not erf: even its f32 GGUF is ~4e-3 off, so it is held to the low-precision rule and its max |d| reported
    if precision(engine) == "fp32" and not engine.startswith("llama-"):
        return c["max_abs_diff"] <= FP32_TOL
    return c["min_cos_pooled"] >= LOWP_COS


def spawn(engine, a, w):
    argv = [peers_python(), os.path.join(BENCH, "peers", "real_peers.py"), "serve", "--engine", engine,
            "--model", a.model, "--work", w, "--threads", str(a.threads),
            "--calib", os.path.join(w, "calib.safetensors")]
    try:
        return core.Worker(engine, argv, os.path.join(w, f"worker-{engine}.log")), ""
    except Exception as e:  # noqa: BLE001  (the peer is reported as not run)
        tail = open(os.path.join(w, f"worker-{engine}.log"), errors="replace").read().splitlines()
        mine = [ln for ln in tail if ln.startswith("real_peers:")]
        return None, (mine or tail or [str(e)])[-1]


# ---------------------------------------------------------------- kernel
def cmd_kernel(a):
    w = workdir(a.model)
    engines = [e for e in (a.engines.split(",") if a.engines else PEER_ENGINES)]
    bertcpp = core.find_bertcpp(a.bertcpp)
    res = {"model": a.model, "threads": a.threads, "date": datetime.datetime.utcnow().isoformat() + "Z",
           "cpu": core._cpu_model(), "bertcpp": bertcpp, "peers": {}, "agreement": {}, "timing": {},
           "skipped": {}}
    agree = os.path.join(w, "agree.safetensors")
    mask = safetensors_np.read(agree)["attention_mask"]
    workers = {}
    for e in ["torch-fp32"] + [x for x in engines if x != "torch-fp32"]:
        t0 = time.time()
        wk, err = spawn(e, a, w)
        if wk is None:
            log(f"{e}: not run: {err}")
            res["skipped"][e] = err
            continue
        res["peers"][e] = {"version": wk.hello.get("version"), "start_s": round(time.time() - t0, 1)}
        out = os.path.join(w, f"agree-{e}.safetensors")
        wk.call(op="forward", inputs=agree, out=out)
        if e != "torch-fp32":
            c = compare(os.path.join(w, "agree-torch-fp32.safetensors"), out, mask)
            res["agreement"][e] = c
            log(f"{e}: {wk.hello.get('version')}: {c}")
            if not agrees(e, c):
                res["skipped"][e] = f"disagrees with torch-fp32: {c}"
                wk.close()
                continue
        workers[e] = wk
    ref = os.path.join(w, "agree-torch-fp32.safetensors")
    bc_dtypes = []
    if bertcpp:
        for d in (a.dtypes.split(",") if a.dtypes else BERTCPP_DTYPES):
            out = os.path.join(w, f"agree-bertcpp-{d}.safetensors")
            r = subprocess.run([bertcpp, "forward", "-m", a.model, "--input-ids", agree, "--dtype", d,
                                "-t", str(a.threads), "--outputs", "last_hidden_state", "-o", out],
                               capture_output=True, text=True)
            if r.returncode != 0:
                res["skipped"][f"bertcpp-{d}"] = r.stderr.strip()[-300:]
                continue
            c = compare(ref, out, mask)
            res["agreement"][f"bertcpp-{d}"] = c
            log(f"bertcpp-{d}: {c}")
            bc_dtypes.append(d)  # timed even if it disagrees: flagged in the report instead
    else:
        res["skipped"]["bertcpp"] = "no bertcpp binary (build/bin/bertcpp, $BERTCPP or --bertcpp)"
    names = [f"bertcpp-{d}" for d in bc_dtypes] + list(workers)
    shapes = [s for s in (SWEEP if a.sweep else SHAPES) if not a.shapes or s[0] in a.shapes.split(",")]
    shapes = [s for s in shapes if os.path.exists(os.path.join(w, f"{s[0]}.safetensors"))]
    if a.iters:  # e.g. "5,1" for a bigger model
        shapes = [(n, b, s, int(i)) for (n, b, s, _), i in zip(shapes, a.iters.split(","))]
    for name, b, s, iters in shapes:
        inp = os.path.join(w, f"{name}.safetensors")
        per = {n: [] for n in names}
        busy0 = core.cpu_busy(0.5)
        for rnd in range(a.rounds):
            order = names[rnd % len(names):] + names[:rnd % len(names)]
            for n in order:
                if n.startswith("bertcpp-"):
                    r = core.run_bertcpp_bench(bertcpp, a.model, (name, b, s, iters), n[8:], a.threads,
                                               iters, None, 1 if rnd else 3)
                    per[n].append(r["median_ms"])
                else:
                    r = workers[n].call(op="bench", inputs=inp, iters=iters, warmup=1 if rnd else 3)
                    per[n].append(r["median_ms"])
            log(f"{name} round {rnd + 1}/{a.rounds}: " +
                ", ".join(f"{n} {per[n][-1]:.2f}" for n in names))
        res["timing"][name] = {n: {"median_ms": statistics.median(v), "round_medians_ms": v}
                               for n, v in per.items()}
        res["timing"][name]["_cpu_busy_before"] = busy0
    for wk in workers.values():
        wk.close()
    path = os.path.join(w, "kernel-sweep.json" if a.sweep else "kernel.json")
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    log(f"kernel: wrote {path}")
    return 0


def cmd_peak(a):
    """The fp32 FMA peak of this machine at --threads (build/bin/fma_peak), for the fp32 target."""
    bertcpp = core.find_bertcpp(a.bertcpp)
    exe = os.path.join(os.path.dirname(bertcpp), "fma_peak") if bertcpp else None
    if not exe or not os.access(exe, os.X_OK):
        raise SystemExit(f"peak: no fma_peak beside the bertcpp binary ({bertcpp}); build with scripts/build.sh")
    r = json.loads(subprocess.run([exe, "--threads", str(a.threads)], check=True, capture_output=True,
                                  text=True).stdout)
    r.update(date=datetime.datetime.utcnow().isoformat() + "Z", cpu=core._cpu_model())
    with open(os.path.join(CACHE, "fma-peak.json"), "w") as f:
        json.dump(r, f, indent=1)
    log(f"peak: {r}")
    return 0


def forward_gflop(model_dir, batch, seq):
    """FLOPs of one encoder forward (the GEMMs and attention's two matmuls; 2 per multiply-add)."""
    c = json.load(open(os.path.join(model_dir, "config.json")))
    H, I, L = c["hidden_size"], c["intermediate_size"], c["num_hidden_layers"]
    per_token = 4 * H * H + 2 * H * I  # QKV + attention output + intermediate + output
    return 2 * L * batch * (seq * per_token + 2 * seq * seq * H) / 1e9


def peak_line(k, shape, ms):
    """The fp32 target against the stored FMA peak, or None without one."""
    peak_path = os.path.join(CACHE, "fma-peak.json")
    if not os.path.exists(peak_path):
        return None
    peak = json.load(open(peak_path))
    b, n = (int(x) for x in shape[1:].split("x"))
    gf = forward_gflop(k["model"], b, n)
    frac = gf / (ms / 1e3) / peak["gflops"]
    return (f"{shape} fp32 against the FMA peak: {gf:.2f} GFLOP in {ms:.2f} ms = {gf / (ms / 1e3):.0f} GFLOP/s = "
            f"**{frac:.2f}** of this machine's measured {peak['gflops']:.0f} GFLOP/s (`bench/real.py peak`, "
            f"{peak['isa']}, {peak['threads']} threads, {peak['date'][:16]} UTC; target ≥ 0.9: {verdict(frac, 0.9)})")


# ---------------------------------------------------------------- end to end
def timed(argv, log_path):
    """Run argv; (wall s, peak RSS MiB of that child, stdout)."""
    t0 = time.perf_counter()
    with open(log_path, "w") as err:
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, text=True)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        tail = open(log_path, errors="replace").read().strip().splitlines()
        raise RuntimeError(f"exit {p.returncode}: {tail[-1] if tail else ''}")
    return wall, ru.ru_maxrss / 1024.0, out


E2E_FE_SOURCE = {"fe-ort-fp32": "ort-fp32", "fe-ort-int8": "ort-int8", "fe-ort-int8pc": "ort-int8pc",
                 "fe-ov-fp32": "ov-fp32", "fe-ov-int8": "ov-int8"}  # the real_peers engine that makes its file
E2E_DEFAULT_S = 150.0  # a pipeline's wall-time estimate before its first round (for --budget)
E2E_FP32_COS = 0.9999  # min cosine per row vs st-torch-fp32 for an fp32 pipeline to count


def st_python():
    """The venv with optimum (WITH_ST_BACKENDS=1 scripts/setup_peers.sh) for st-onnx-* / st-openvino-*."""
    return os.path.expanduser(os.environ.get("ST_PY", "~/.cache/bertcpp/venv-st4/bin/python"))


def e2e_corpus(a, w):
    """The 20,000 sentences, or every k-th of them (--subset N) for a bigger model."""
    if not a.subset:
        return SENTENCES
    with open(SENTENCES, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    k = max(1, len(lines) // a.subset)
    path = os.path.join(w, f"sentences-{a.subset}.txt")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as f:
            f.write("\n".join(lines[::k][:a.subset]) + "\n")
    return path


def e2e_runs(a, w, corpus):
    bertcpp = core.find_bertcpp(a.bertcpp)
    runs = []
    if bertcpp:
        runs += [(f"bertcpp-{d}", [bertcpp, "embed", "-m", a.model, "-t", str(a.threads), "--dtype", d,
                                    "-i", corpus, "-f", "npy", "-o", os.path.join(w, f"e2e-bertcpp-{d}.npy")])
                 for d in BERTCPP_DTYPES]
    for e in E2E_PEERS:
        py = st_python() if e.startswith(("st-onnx", "st-openvino")) else peers_python()
        runs.append((e, [py, os.path.join(BENCH, "peers", "e2e_peers.py"), "--engine", e, "--model", a.model,
                         "--input", corpus, "--out", os.path.join(w, f"e2e-{e}.npy"), "--work", w,
                         "--threads", str(a.threads)]))
    if a.engines:
        runs = [r for r in runs if r[0] in a.engines.split(",")]
    return runs


def e2e_prepare(a, w, corpus, runs):
    """Untimed: the converted models the fe-* (real_peers.py) and st-onnx/openvino (--prepare) pipelines load."""
    for name, argv in runs:
        if name in E2E_FE_SOURCE:
            wk, err = spawn(E2E_FE_SOURCE[name], a, w)
            log(f"prepare {name}: " + ("ok" if wk else f"failed: {err}"))
            if wk:
                wk.close()
        elif name.startswith(("st-onnx", "st-openvino")):
            r = subprocess.run(argv + ["--prepare"], capture_output=True, text=True)
            tail = (r.stderr.strip().splitlines() or [""])[-1]
            log(f"prepare {name}: " + ("ok" if r.returncode == 0 else f"failed: {tail}"))
    return 0


def e2e_summary(res, w):
    """Per pipeline: median and spread over its rounds, and its rows' cosine vs st-torch-fp32."""
    ref_path = os.path.join(w, "e2e-st-torch-fp32.npy")
    ref = np.load(ref_path) if os.path.exists(ref_path) else None
    runs = {}
    for name, samples in res["samples"].items():
        if not samples:
            continue
        walls = [x["wall_s"] for x in samples]
        med = statistics.median(walls)
        rec = {"wall_s": med, "walls_s": walls, "rounds": [x["round"] for x in samples],
               "sent_per_s": res["n"] / med, "peak_rss_mb": max(x["peak_rss_mb"] for x in samples),
               "command": res["commands"][name]}
        for k in ("load_s", "encode_s"):
            if all(k in x for x in samples):
                rec[k] = statistics.median(x[k] for x in samples)
        if "versions" in samples[-1]:
            rec["versions"] = samples[-1]["versions"]
        out = os.path.join(w, f"e2e-{name}.npy")
        if ref is not None and os.path.exists(out):
            g = np.load(out)
            if g.shape != ref.shape:
                rec["error"] = f"shape {g.shape} != {ref.shape}"
            else:
                cos = (ref * g).sum(1) / (np.linalg.norm(ref, axis=1) * np.linalg.norm(g, axis=1))
                rec["min_cos"], rec["mean_cos"] = float(cos.min()), float(cos.mean())
        lim = E2E_FP32_COS if precision(name) == "fp32" else LOWP_COS
        rec["agrees"] = rec.get("min_cos", 0.0) >= lim
        runs[name] = rec
    res["runs"] = runs


def cmd_e2e(a):
    """Interleaved rounds (pipeline order rotated per round), resumable: --budget S stops before the next
    run would pass S seconds, and the next invocation continues the same schedule (one lock hold each)."""
    w = workdir(a.model)
    os.makedirs(w, exist_ok=True)
    corpus = e2e_corpus(a, w)
    with open(corpus, encoding="utf-8") as f:
        n = sum(1 for _ in f)
    runs = e2e_runs(a, w, corpus)
    if a.prepare:
        return e2e_prepare(a, w, corpus, runs)
    path = os.path.join(w, "e2e.json")
    names = [r[0] for r in runs]
    res = json.load(open(path)) if os.path.exists(path) and not a.fresh else None
    if res is None or res.get("corpus") != corpus or "schedule" not in res:
        # st-torch-fp32 first in round 0's order: every other row is compared with it
        base = sorted(names, key=lambda x: x != "st-torch-fp32")
        sched = [[r, x] for r in range(a.rounds) for x in base[r % len(base):] + base[:r % len(base)]]
        res = {"model": a.model, "threads": a.threads, "corpus": corpus, "n": n, "rounds": a.rounds,
               "schedule": sched, "done": 0, "samples": {x: [] for x in names},
               "commands": {x: shlex.join(v) for x, v in runs}, "skipped": {}, "cpu": core._cpu_model(),
               "started": datetime.datetime.utcnow().isoformat() + "Z"}
    argv_of = dict(runs)
    t_start = time.time()
    while res["done"] < len(res["schedule"]):
        rnd, name = res["schedule"][res["done"]]
        if name in res["skipped"] or name not in argv_of:
            res["done"] += 1
            continue
        prev = [x["wall_s"] for x in res["samples"][name]]
        est = statistics.median(prev) if prev else E2E_DEFAULT_S
        spent = time.time() - t_start
        if a.budget and spent > 0.5 and spent + est > a.budget:
            log(f"e2e: budget {a.budget:.0f} s: stopping before {name} round {rnd + 1} (est {est:.0f} s)")
            break
        try:
            wall, rss, out = timed(argv_of[name], os.path.join(w, f"e2e-{name}.log"))
        except RuntimeError as e:
            log(f"{name}: not run: {e}")
            res["skipped"][name] = str(e)
            res["done"] += 1
            continue
        rec = {"round": rnd, "wall_s": wall, "peak_rss_mb": rss, "busy_s": round(time.time() - t_start, 1)}
        if out.strip():
            try:
                rec.update({k: v for k, v in json.loads(out.strip().splitlines()[-1]).items()
                            if k in ("load_s", "encode_s", "versions")})
            except ValueError:
                pass
        res["samples"][name].append(rec)
        res["done"] += 1
        res["date"] = datetime.datetime.utcnow().isoformat() + "Z"
        e2e_summary(res, w)
        r = res["runs"][name]
        log(f"{name} round {rnd + 1}/{res['rounds']}: {n / wall:.0f} sent/s (wall {wall:.1f} s), peak RSS "
            f"{rss:.0f} MiB, min cos {r.get('min_cos', float('nan')):.6f}")
        with open(path, "w") as f:
            json.dump(res, f, indent=1)
    e2e_summary(res, w)
    with open(path, "w") as f:
        json.dump(res, f, indent=1)
    left = len(res["schedule"]) - res["done"]
    log(f"e2e: wrote {path}; " + (f"{left} runs of the schedule left (run again)" if left else "schedule done"))
    return 0


# ---------------------------------------------------------------- report
COL = {"bertcpp": "#d62728", "torch": "#1f77b4", "ort": "#2ca02c", "ort-opt": "#98df8a", "ov": "#9467bd",
       "ct2": "#ff7f0e", "st": "#1f77b4", "fe": "#2ca02c"}


def color(name):
    fam = "ort-opt" if name.startswith("ort-opt") else name.split("-")[0]
    if name.startswith("st-onnx"):
        return "#2ca02c"
    if name.startswith("st-openvino"):
        return "#9467bd"
    return COL.get(fam, "#7f7f7f")


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def bar_chart(path, title, subtitle, groups, unit, note):
    """Horizontal bars: groups = [(group label, [(name, value), ...])], each group on its own scale."""
    rows = sum(len(g[1]) + 1 for g in groups)
    W, L, R, T, rh = 760, 170, 90, 60, 17
    H = T + rows * rh + 40
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{esc(title)}</text>',
         f'<text x="{W / 2}" y="40" text-anchor="middle" font-size="11" fill="#444">{esc(subtitle)}</text>']
    y = T
    for label, items in groups:
        o.append(f'<text x="8" y="{y + 12}" font-weight="bold">{esc(label)}</text>')
        y += rh
        vmax = max(v for _, v in items)
        for name, v in items:
            bw = (W - L - R) * v / vmax
            o.append(f'<text x="{L - 6}" y="{y + 12}" text-anchor="end">{esc(name)}</text>')
            o.append(f'<rect x="{L}" y="{y + 2}" width="{bw:.1f}" height="{rh - 4}" fill="{color(name)}"/>')
            o.append(f'<text x="{L + bw + 4:.1f}" y="{y + 12}">{v:.3g} {unit}</text>')
            y += rh
    o.append(f'<text x="8" y="{H - 10}" font-size="10" fill="#666">{esc(note)}</text></svg>')
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def scatter(path, title, subtitle, pts, xlabel, ylabel, note):
    """pts = [(name, x, y)]; x log scale (ms), y linear."""
    import math
    W, H, L, R, T, B = 760, 440, 80, 180, 60, 60
    xs = [p[1] for p in pts]
    ys = [p[2] for p in pts]
    x0, x1 = math.log10(min(xs) * 0.8), math.log10(max(xs) * 1.25)
    y0, y1 = min(ys) - (max(ys) - min(ys)) * 0.1 - 1e-4, max(1.0, max(ys)) + 1e-4

    def px(v):
        return L + (math.log10(v) - x0) / (x1 - x0) * (W - L - R)

    def py(v):
        return H - B - (v - y0) / (y1 - y0) * (H - T - B)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
         f'font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{esc(title)}</text>',
         f'<text x="{W / 2}" y="40" text-anchor="middle" font-size="11" fill="#444">{esc(subtitle)}</text>',
         f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>']
    for k in range(6):
        v = y0 + (y1 - y0) * k / 5
        o.append(f'<line x1="{L}" y1="{py(v):.1f}" x2="{W - R}" y2="{py(v):.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{py(v) + 4:.1f}" text-anchor="end">{v:.4f}</text>')
    for t in [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]:
        if x0 <= math.log10(t) <= x1:
            o.append(f'<text x="{px(t):.1f}" y="{H - B + 16}" text-anchor="middle">{t}</text>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 22}" text-anchor="middle">{esc(xlabel)}</text>')
    o.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 18 {(T + H - B) / 2})">{esc(ylabel)}</text>')
    for i, (name, x, y) in enumerate(pts):
        o.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="5" fill="{color(name)}"/>')
        o.append(f'<text x="{px(x) + 7:.1f}" y="{py(y) + 4:.1f}" font-size="11">{esc(name)}</text>')
    o.append(f'<text x="8" y="{H - 4}" font-size="10" fill="#666">{esc(note)}</text></svg>')
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


def verdict(r, target):
    return "met" if r >= target else f"missed: needs {target / r:.3f}× more"


CPU_NAME = "AMD EPYC Zen 5, 2 vCPUs, AVX-512 VNNI+BF16, no AMX"


def write_block(marker, text):
    doc = os.path.join(ROOT, "docs", "benchmarks.md")
    begin, end = f"<!-- {marker}:begin -->", f"<!-- {marker}:end -->"
    s = open(doc, encoding="utf-8").read()
    i, j = s.find(begin), s.find(end)
    if i < 0 or j < i:
        log(f"report: {doc} has no {begin} ... {end} block; not updated")
        return
    open(doc, "w", encoding="utf-8").write(s[:i + len(begin)] + "\n" + text + s[j:])
    log(f"report: updated {doc} block {marker}")


def sweep_report(k, mname, sfx):
    """Latency vs sequence length (kernel --sweep): a table and docs/bench-real-latency-vs-seq*.svg."""
    shapes = sorted(k["timing"], key=lambda s: int(s.split("x")[1]))
    names = [n for n in k["timing"][shapes[0]] if not n.startswith("_")]
    nr = len(k["timing"][shapes[0]][names[0]]["round_medians_ms"])
    core.svg_chart(os.path.join(ROOT, "docs", f"bench-real-latency-vs-seq{sfx}.svg"),
                   f"{mname}: latency vs sequence length, batch 1 (lower is better)",
                   "real tokens", "ms (median of interleaved rounds)",
                   {n: [(int(s.split("x")[1]), k["timing"][s][n]["median_ms"]) for s in shapes] for n in names},
                   note="bench/real.py kernel --sweep", subtitle=f"threads {k['threads']}, {k['date'][:16]} UTC, {CPU_NAME}")
    out = [f"Latency vs sequence length (`bench/real.py kernel --sweep`, {k['date'][:16]} UTC, batch 1, one window "
           f"of real tokens per length, {nr} interleaved rounds, median ms; in brackets bertcpp's speed-up over "
           "the fastest peer of the same precision):", "",
           "| engine | precision | " + " | ".join(s.split("x")[1] for s in shapes) + " |",
           "|---|---|" + "---:|" * len(shapes)]
    for n in names:
        cells = []
        for s in shapes:
            t = k["timing"][s]
            ms = t[n]["median_ms"]
            peers = [t[p]["median_ms"] for p in names if not p.startswith("bertcpp") and precision(p) == precision(n)]
            ratio = f" ({min(peers) / ms:.2f}×)" if n.startswith("bertcpp") and peers else ""
            cells.append(core.fmt_ms(ms) + ratio)
        out.append(f"| {n} | {precision(n)} | " + " | ".join(cells) + " |")
    skipped = "; ".join(f"{n}: {esc(v)[:120]}" for n, v in k["skipped"].items())
    out += ([""] + [f"Not timed in the sweep: {skipped}"] if skipped else []) + [""]
    if "b1x128" in k["timing"] and "bertcpp-f32" in k["timing"]["b1x128"]:
        if pl := peak_line(k, "b1x128", k["timing"]["b1x128"]["bertcpp-f32"]["median_ms"]):
            out += [pl + ".", ""]
    return "\n".join(out)


def cmd_report(a):
    w = workdir(a.model)
    mname = os.path.basename(os.path.normpath(a.model))
    sfx = "" if mname == "all-MiniLM-L6-v2" else "-" + mname.lower()  # chart file names per model
    if a.sweep:  # its own block and chart, so a sweep never overwrites the main tables
        text = sweep_report(json.load(open(os.path.join(w, "kernel-sweep.json"))), mname, sfx)
        print(text)
        write_block(f"bench:sweep:{mname}", text)
        return 0
    kp, ep = os.path.join(w, "kernel.json"), os.path.join(w, "e2e.json")
    if a.only in ("", "kernel") and os.path.exists(kp):
        text = report_kernel(json.load(open(kp)), mname, sfx)
        print(text)
        write_block(f"bench:real:{mname}", text)
    if a.only in ("", "e2e") and os.path.exists(ep):
        text = report_e2e(json.load(open(ep)), mname, sfx)
        print(text)
        write_block(f"bench:real-e2e:{mname}", text)
    return 0


def report_kernel(k, mname, sfx):
    cpu = CPU_NAME
    lines = [f"Real weights: **{mname}**, threads {k['threads']}, {k['date'][:16]} UTC, {cpu} "
             f"(`{k['cpu']}`). Only ratios within this run mean anything. bertcpp int8 is being "
             "reworked by another session; its numbers here are those of this branch's build.", ""]
    lines += ["Peer versions: " + "; ".join(f"{n}: {v['version']}" for n, v in k["peers"].items()), ""]
    if k["skipped"]:
        lines += ["Not timed: " + "; ".join(f"{n}: {esc(v)[:160]}" for n, v in k["skipped"].items()), ""]
    shapes = [s for s in k["timing"]]
    names = [n for n in k["timing"][shapes[0]] if not n.startswith("_")]
    nr = len(next(v for v in k["timing"][shapes[0]].values() if isinstance(v, dict))["round_medians_ms"])
    lines += [f"Latency: median of the per-round medians ({nr} interleaved rounds; in brackets the fastest "
              "and slowest round).", ""]
    lines += ["| engine | precision | " + " | ".join(f"{s} ms" for s in shapes) +
              " | max abs diff vs torch-fp32 | min cos (mean-pooled) | min cos (tokens) |",
              "|---|---|" + "---|" * len(shapes) + "---|---|---|"]
    for n in names:
        ag = k["agreement"].get(n)
        lines.append(f"| {n} | {precision(n)} | " +
                     " | ".join(f"{core.fmt_ms(k['timing'][s][n]['median_ms'])} "
                                f"[{core.fmt_ms(min(k['timing'][s][n]['round_medians_ms']))}–"
                                f"{core.fmt_ms(max(k['timing'][s][n]['round_medians_ms']))}]"
                                for s in shapes) + " | " +
                     (f"{ag['max_abs_diff']:.2e} | {ag['min_cos_pooled']:.4f}"
                      f"{' (below 0.99)' if ag['min_cos_pooled'] < GOOD_COS else ''} | "
                      f"{ag['min_cos_token']:.4f} |" if ag else "(reference) | 1 | 1 |"))
    lines.append("")
    # targets
    tl = ["**Targets (issue 17)**", ""]
    for s in shapes:
        t = k["timing"][s]

        def best(pred):
            c = [(t[n]["median_ms"], n) for n in names if pred(n)]
            return min(c) if c else None
        b8, p8 = best(lambda n: n == "bertcpp-int8"), best(lambda n: not n.startswith("bertcpp") and precision(n) == "int8")
        if b8 and p8:
            r = p8[0] / b8[0]
            tl.append(f"- {s} int8: bertcpp {b8[0]:.2f} ms vs fastest int8 peer {p8[1]} {p8[0]:.2f} ms = "
                      f"{r:.2f}× (target ≥ 1.3×: {verdict(r, 1.3)})")
        bb, pb = best(lambda n: n == "bertcpp-bf16"), best(lambda n: n == "torch-bf16")
        if bb and pb:
            r = pb[0] / bb[0]
            tl.append(f"- {s} bf16: bertcpp {bb[0]:.2f} ms vs PyTorch bf16 {pb[0]:.2f} ms = {r:.2f}× "
                      f"(target ≥ 1.2×: {verdict(r, 1.2)})")
        bf, pf = best(lambda n: n == "bertcpp-f32"), best(lambda n: not n.startswith("bertcpp") and precision(n) == "fp32")
        if bf and pf:
            r = pf[0] / bf[0]
            tl.append(f"- {s} fp32: bertcpp {bf[0]:.2f} ms vs fastest fp32 peer {pf[1]} {pf[0]:.2f} ms = {r:.2f}× "
                      f"(target: ahead of every fp32 peer: {'met' if r > 1 else 'missed'})")
        if bf and s == "b1x128" and (pl := peak_line(k, s, bf[0])):
            tl.append("- " + pl)
    bar_chart(os.path.join(ROOT, "docs", f"bench-real-latency{sfx}.svg"),
              f"{mname}: forward latency, real weights (lower is better)",
              f"threads {k['threads']}, median of interleaved rounds, {cpu}",
              [(s, [(n, k["timing"][s][n]["median_ms"]) for n in names]) for s in shapes], "ms",
              "bench/real.py kernel; bertcpp via `bertcpp bench`, peers in bench/peers/real_peers.py")
    pts = [(n, k["timing"][shapes[-1]][n]["median_ms"], k["agreement"][n]["min_cos_pooled"])
           for n in names if n in k["agreement"] and precision(n) != "fp32"]
    if pts:
        scatter(os.path.join(ROOT, "docs", f"bench-real-int8-accuracy{sfx}.svg"),
                f"{mname}: accuracy vs speed, bf16/int8 engines",
                f"{shapes[-1]} latency vs min cosine of mean-pooled rows vs PyTorch fp32 (8 real sentences)",
                pts, f"{shapes[-1]} ms (log)", "min cosine vs torch-fp32", "up and left is better")
    return "\n".join(lines + tl) + "\n"


def report_e2e(e, mname, sfx):
    cpu = CPU_NAME
    rr = e["runs"]
    nr = e.get("rounds", 1)
    done = {x: len(v) for x, v in e["samples"].items()}
    lines = [f"End to end: **{mname}**, {e['n']:,} real sentences (`{os.path.basename(e['corpus'])}`), file in, "
             f"float32 embeddings out, threads {e['threads']}, {e['started'][:16]}–{e['date'][11:16]} UTC, {cpu} "
             f"(`{e['cpu']}`). Wall time of the whole process (start-up, load, tokenize, forward, pool, write): "
             f"the median over {nr} interleaved rounds (pipeline order rotated per round; in brackets the "
             "fastest and slowest round, and the rounds run if fewer), peak RSS the largest of its rounds; "
             "cosine per row vs `SentenceTransformer.encode` fp32 (a peer counts if its worst row is "
             f"≥ {E2E_FP32_COS} for fp32, ≥ {LOWP_COS} for bf16/int8).", "",
             "| pipeline | precision | sentences/s | wall s [min–max] | of which encode s | peak RSS MiB | min cos | mean cos |",
             "|---|---|---|---|---|---|---|---|"]
    for n, r in sorted(rr.items(), key=lambda x: -x[1]["sent_per_s"]):
        rounds = "" if done[n] == nr else f", {done[n]} of {nr} rounds"
        enc = f"{r['encode_s']:.1f}" if "encode_s" in r else "—"
        flag = "" if r["agrees"] or n.startswith("bertcpp") else " (disagrees: not counted)"
        lines.append(f"| {n}{flag} | {precision(n)} | {r['sent_per_s']:.0f} | {r['wall_s']:.1f} "
                     f"[{min(r['walls_s']):.1f}–{max(r['walls_s']):.1f}{rounds}] | {enc} | {r['peak_rss_mb']:.0f} | "
                     f"{r.get('min_cos', float('nan')):.6f} | {r.get('mean_cos', float('nan')):.6f} |")
    vers = sorted({r["versions"] for r in rr.values() if r.get("versions")})
    if vers:
        lines += ["", "Peer versions: " + "; ".join(vers)]
    if e["skipped"]:
        lines += ["", "Not run: " + "; ".join(f"{n}: {esc(v)[:200]}" for n, v in e["skipped"].items())]
    lines.append("")
    tl = ["**Targets (issue 17)**", ""]
    for p in ("fp32", "bf16", "int8"):
        b = [r["sent_per_s"] for n, r in rr.items() if n.startswith("bertcpp") and precision(n) == p]
        q = [(r["sent_per_s"], n) for n, r in rr.items()
             if not n.startswith("bertcpp") and precision(n) == p and r["agrees"]]
        if b and q:
            best_q = max(q)
            ratio = b[0] / best_q[0]
            tl.append(f"- e2e {p}: bertcpp {b[0]:.0f} sent/s vs fastest {p} peer {best_q[1]} "
                      f"{best_q[0]:.0f} sent/s = {ratio:.2f}× (target ≥ 2×: "
                      f"{verdict(ratio, 2.0)})")
            qe = [(e["n"] / r["encode_s"], n) for n, r in rr.items() if "encode_s" in r and
                  not n.startswith("bertcpp") and precision(n) == p and r["agrees"]]
            if qe:  # the peers' start-up (Python imports, model load) left out; bertcpp's kept in
                best_e = max(qe)
                tl.append(f"  - on the peers' own encode timers (their start-up and load left out, bertcpp's "
                          f"whole process kept): fastest {best_e[1]} {best_e[0]:.0f} sent/s, bertcpp "
                          f"{b[0] / best_e[0]:.2f}×")
    ep = [(n, r["sent_per_s"], r["min_cos"]) for n, r in rr.items()
          if "min_cos" in r and precision(n) != "fp32"]
    if ep:
        scatter(os.path.join(ROOT, "docs", f"bench-real-e2e-accuracy{sfx}.svg"),
                f"{mname}: end-to-end accuracy vs throughput, bf16/int8 pipelines",
                f"sentences/s vs the worst row's cosine with SentenceTransformer fp32 over {e['n']:,} sentences",
                ep, "sentences/s (log)", "min cosine vs st-torch-fp32", "up and right is better")
    bar_chart(os.path.join(ROOT, "docs", f"bench-real-e2e{sfx}.svg"),
              f"{mname}: {e['n']:,} sentences end to end (higher is better)",
              f"threads {e['threads']}, whole process wall time, {cpu}",
              [("sentences/s", [(n, r["sent_per_s"]) for n, r in
                                sorted(rr.items(), key=lambda x: -x[1]["sent_per_s"])])],
              "/s", f"bench/real.py e2e: median of {nr} interleaved rounds; bertcpp embed -f npy vs bench/peers/e2e_peers.py")
    return "\n".join(lines + tl) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("step", choices=["prepare", "kernel", "e2e", "peak", "report"])
    ap.add_argument("--model", default=os.path.join(MODELS, "all-MiniLM-L6-v2"))
    ap.add_argument("--bertcpp", default=None, help="bertcpp binary (default: $BERTCPP or build*/bin)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=None, help="kernel: 5, e2e: 3")
    ap.add_argument("--engines", default="", help="comma list (default: all); e2e: the schedule's entries of the others are passed over")
    ap.add_argument("--dtypes", default="", help="kernel: bertcpp dtypes, comma list of f32,bf16,int8 (default: all)")
    ap.add_argument("--shapes", default="", help="kernel: comma list of b1x128,b32x128")
    ap.add_argument("--iters", default="", help="kernel: iterations per round per shape (default 20,3)")
    ap.add_argument("--sweep", action="store_true",
                    help="kernel: b1 x 16..512 real tokens instead (latency vs sequence length), kernel-sweep.json; "
                         "report: that run's block and chart only")
    ap.add_argument("--fresh", action="store_true", help="e2e: start a new schedule (default: continue e2e.json's)")
    ap.add_argument("--budget", type=float, default=0, help="e2e: stop before a run would pass this many seconds")
    ap.add_argument("--subset", type=int, default=0, help="e2e: every k-th sentence, N of them (bigger models)")
    ap.add_argument("--prepare", action="store_true", help="e2e: only make the pipelines' converted models")
    ap.add_argument("--only", default="", choices=["", "kernel", "e2e"], help="report: one of the two blocks")
    a = ap.parse_args(argv)
    if a.rounds is None:
        a.rounds = 5 if a.step == "kernel" else 3
    return {"prepare": cmd_prepare, "kernel": cmd_kernel, "e2e": cmd_e2e, "peak": cmd_peak,
            "report": cmd_report}[a.step](a)


if __name__ == "__main__":
    sys.exit(main())
