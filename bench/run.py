#!/usr/bin/python3
"""bertcpp performance harness: bertcpp vs PyTorch (fp32, bf16 autocast) vs ONNX Runtime (fp32).

One command (run by hand, never on CI):
    bench/run.sh            # full run: bert-base shapes, charts into docs/, table into docs/benchmarks.md
    bench/run.sh --quick    # smoke run: small random model, tiny shapes, 3 iterations, nothing in docs/

Steps: (1) make the random bert-base checkpoint (tools/make_checkpoint.py, cached in bench/out/),
(2) export it to ONNX with the PyTorch peer, (3) write the input files, (4) check that the peers
agree numerically (PyTorch fp32 vs ORT, and bertcpp when `bertcpp forward` exists), (5) time every
engine per shape, interleaved (engine order rotates every round), (6) write bench/out/results.json,
bench/out/results.md and SVG charts. bertcpp is timed through `bertcpp bench ...`; if the binary or
the subcommand is missing the harness says so and still runs the peers.
"""
from __future__ import annotations

import argparse
import datetime
import json
import math
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
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_np  # noqa: E402

PY = "/usr/bin/python3"
BASE_CONFIG = "/work/shared/golden/vocabs/bert-base-uncased/config.json"

# name, batch, seq, iterations (full run). "varlen" = 64 texts of 8..256 tokens.
MAIN_SHAPES = [("b1x16", 1, 16, 60), ("b1x128", 1, 128, 30), ("b8x128", 8, 128, 10),
               ("b32x128", 32, 128, 5), ("varlen64", 64, None, 5)]
CHART_SHAPES = [("b1x32", 1, 32, 40), ("b1x64", 1, 64, 30), ("b1x256", 1, 256, 15),
                ("b1x512", 1, 512, 8), ("b4x128", 4, 128, 15)]
QUICK_SHAPES = [("b1x16", 1, 16, 3), ("b2x32", 2, 32, 3), ("varlen8", 8, None, 3)]


def log(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- inputs
def varlen_lengths(n, seed, lo=8, hi=256):
    """Token counts (with [CLS]/[SEP]) of n texts: lognormal, median 48 tokens, sigma 0.8,
    clipped to [lo, hi] — short queries and sentences with a long tail of paragraphs."""
    rng = np.random.default_rng(seed)
    x = np.exp(rng.normal(math.log(48.0), 0.8, size=n))
    return np.clip(np.round(x), lo, hi).astype(np.int64)


def make_inputs(path, lengths, seq, vocab, seed):
    """input_ids [b, seq] with [CLS] ... [SEP] then [PAD]=0, attention_mask, token_type_ids."""
    rng = np.random.default_rng(seed)
    b = len(lengths)
    ids = np.zeros((b, seq), dtype=np.int64)
    mask = np.zeros((b, seq), dtype=np.int64)
    lo = 1000 if vocab > 2000 else min(200, vocab - 1)
    for i, n in enumerate(lengths):
        ids[i, :n] = rng.integers(lo, vocab, size=n)
        ids[i, 0], ids[i, n - 1] = 101 % vocab, 102 % vocab
        mask[i, :n] = 1
    safetensors_np.write(path, {"input_ids": ids, "attention_mask": mask,
                                "token_type_ids": np.zeros_like(ids)})


# ---------------------------------------------------------------- peers (persistent workers)
class Worker:
    """A peer process speaking JSON lines (torch_bert.py serve / ort_bench.mjs serve)."""

    def __init__(self, name, argv, logfile, env=None, cwd=None):
        self.name = name
        self.log = open(logfile, "w")
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.log, text=True, env=env, cwd=cwd, bufsize=1)
        self.hello = self._read()
        if not self.hello or not self.hello.get("ready"):
            raise RuntimeError(f"{name} worker did not start (see {logfile})")

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            return None
        return json.loads(line)

    def call(self, **req):
        self.proc.stdin.write(json.dumps(req) + "\n")
        self.proc.stdin.flush()
        rep = self._read()
        if rep is None:
            raise RuntimeError(f"{self.name} worker died (see {self.log.name})")
        if "error" in rep:
            raise RuntimeError(f"{self.name}: {rep['error']}")
        return rep

    def close(self):
        try:
            self.proc.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=30)
        except Exception:
            self.proc.kill()
        self.log.close()


# ---------------------------------------------------------------- bertcpp
def find_bertcpp(explicit):
    if explicit:
        return explicit
    if os.environ.get("BERTCPP"):
        return os.environ["BERTCPP"]
    cands = []
    for d in os.listdir(ROOT):
        p = os.path.join(ROOT, d, "bin", "bertcpp")
        if d.startswith("build") and "asan" not in d and os.access(p, os.X_OK):
            cands.append(p)
    # newest optimised build first (a Debug build would make bertcpp look slow)
    release = [p for p in cands if build_type(p) in ("Release", "RelWithDebInfo")]
    pool = release or cands
    return max(pool, key=os.path.getmtime) if pool else None


def set_autogroup_nice(value):
    """With sched_autogroup (the default on desktop kernels) plain nice only ranks processes of
    the same session; the session's autogroup nice is what counts against other sessions."""
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(value))
        log(f"autogroup nice set to {value} (this terminal session) for the run")
    except OSError:
        pass


def build_type(binary):
    """CMAKE_BUILD_TYPE of the build dir a bertcpp binary lives in ('' if unknown)."""
    cache = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(binary))), "CMakeCache.txt")
    try:
        with open(cache, encoding="utf-8", errors="replace") as f:
            for ln in f:
                if ln.startswith("CMAKE_BUILD_TYPE:"):
                    return ln.split("=", 1)[1].strip()
    except OSError:
        pass
    return ""


def has_subcommand(binary, sub):
    """(True, '') if `binary sub --help` works, else (False, reason)."""
    if not binary:
        return False, "no bertcpp binary found (looked at $BERTCPP and build*/bin/bertcpp; " \
                      "build it with cmake --build <dir> --target bertcpp, or pass --bertcpp PATH)"
    try:
        r = subprocess.run([binary, sub, "--help"], capture_output=True, text=True, timeout=60)
    except OSError as e:
        return False, f"{binary}: {e}"
    if r.returncode != 0:
        msg = (r.stderr or r.stdout).strip().splitlines()
        return False, f"`{binary} {sub}` is not available yet ({msg[-1] if msg else 'exit %d' % r.returncode})"
    return True, ""


def run_bertcpp_bench(binary, model, shape, dtype, threads, iters, lengths_file, warmup):
    _, b, s, _ = shape
    argv = [binary, "bench", "--model", model, "--dtype", dtype, "--threads", str(threads),
            "--iters", str(iters), "--warmup", str(warmup)]
    argv += ["--lengths", lengths_file] if s is None else ["--batch", str(b), "--seq", str(s)]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        err = (r.stderr or r.stdout).strip().splitlines()
        log(f"  failed (exit {r.returncode}): {shlex.join(argv)}")
        raise RuntimeError(f"exit {r.returncode}: {err[-1] if err else ''}")
    for line in reversed(r.stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "median_ms" in obj:
            return obj
    raise RuntimeError(f"{shlex.join(argv)} printed no JSON object with median_ms: "
                       f"{r.stdout.strip()[:200]!r}")


# ---------------------------------------------------------------- agreement
def gemm_floors(bertcpp, cfg, tokens, threads, dtypes):
    """GEMM floor per dtype: oneDNN alone on the encoder's GEMMs for `tokens` rows (bench/gemm_floor)."""
    out = {}
    gf = os.path.join(os.path.dirname(bertcpp), "gemm_floor") if bertcpp else ""
    if not gf or not os.path.exists(gf):
        return out
    for d in dtypes:
        cmd = [gf, "--tokens", str(tokens), "--threads", str(threads), "--dtype", d,
               "--hidden", str(cfg["hidden_size"]), "--intermediate", str(cfg["intermediate_size"]),
               "--layers", str(cfg["num_hidden_layers"]), "--iters", "20", "--stream-mb", "512"]
        try:
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
            if p.returncode == 0:
                j = json.loads(p.stdout)
                out[d] = j["floor_ms"]
                if "weights_read_ms" in j:
                    out[d + "_weights_read"] = j["weights_read_ms"]
                log(f"  GEMM floor {d}: {out[d]:.2f} ms; streaming the {d} weights once: "
                    f"{j.get('weights_read_ms', float('nan')):.1f} ms ({j.get('read_gbs', float('nan')):.1f} GB/s)")
            else:
                log(f"  GEMM floor {d}: {p.stderr.strip()}")
        except (OSError, subprocess.TimeoutExpired, ValueError, KeyError) as ex:
            log(f"  GEMM floor {d}: {ex}")
    return out


def masked_maxdiff(a_path, b_path, mask):
    a = safetensors_np.read(a_path, as_f32=True)["last_hidden_state"]
    b = safetensors_np.read(b_path, as_f32=True)["last_hidden_state"]
    if a.shape != b.shape:
        raise RuntimeError(f"shape mismatch {a.shape} vs {b.shape} ({a_path}, {b_path})")
    return float(np.abs(a - b)[mask.astype(bool)].max())


def check_agreement(args, workers, bertcpp, fwd_ok, model, inp_path, outdir):
    mask = safetensors_np.read(inp_path)["attention_mask"]
    outs = {}
    for name, w, extra in (("pytorch-fp32", workers["torch"], {"dtype": "fp32"}),
                           ("pytorch-bf16", workers["torch"], {"dtype": "bf16"}),
                           ("ort-fp32", workers["ort"], {})):
        outs[name] = os.path.join(outdir, f"agree.{name}.safetensors")
        w.call(op="forward", inputs=inp_path, out=outs[name], **extra)
    ref = outs["pytorch-fp32"]
    res = {"ort-fp32": masked_maxdiff(ref, outs["ort-fp32"], mask),
           "pytorch-bf16": masked_maxdiff(ref, outs["pytorch-bf16"], mask)}
    if fwd_ok:
        for d in args.bertcpp_dtypes:
            out = os.path.join(outdir, f"agree.bertcpp-{d}.safetensors")
            argv = [bertcpp, "forward", "--model", model, "--input-ids", inp_path,
                    "--outputs", "last_hidden_state", "--out", out, "--dtype", d,
                    "--threads", str(args.threads)]
            r = subprocess.run(argv, capture_output=True, text=True)
            if r.returncode != 0:
                err = (r.stderr or r.stdout).strip().splitlines()
                res[f"bertcpp-{d}"] = f"failed: {err[-1] if err else r.returncode}"
                continue
            try:
                res[f"bertcpp-{d}"] = masked_maxdiff(ref, out, mask)
            except Exception as e:
                res[f"bertcpp-{d}"] = f"failed: {e}"
    return res


# ---------------------------------------------------------------- charts (plain SVG)
COLORS = {"bertcpp": "#d62728", "pytorch-fp32": "#1f77b4", "pytorch-bf16": "#17becf",
          "ort-fp32": "#2ca02c"}
EXTRA_COLORS = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b"]


def _color(name, i):
    if name in COLORS:
        return COLORS[name]
    return EXTRA_COLORS[i % len(EXTRA_COLORS)]


def svg_chart(path, title, xlabel, ylabel, series, logx=True, logy=True, note="", subtitle=""):
    W, H, L, R, T, B = 760, 460, 80, 150, 62, 60
    pts = [p for s in series.values() for p in s]
    if not pts:
        return
    xs = [p[0] for p in pts]
    ys = [p[1] for p in pts]
    fx = (lambda v: math.log10(v)) if logx else (lambda v: v)
    fy = (lambda v: math.log10(v)) if logy else (lambda v: v)
    x0, x1 = fx(min(xs)), fx(max(xs))
    if logy:  # snap to the 1-2-5 ticks around the data
        ticks = [10 ** e * m for e in range(-3, 10) for m in (1, 2, 5)]
        y0 = math.log10(max([t for t in ticks if t <= min(ys)] or [ticks[0]]))
        y1 = math.log10(min([t for t in ticks if t >= max(ys)] or [ticks[-1]]))
    else:
        y0, y1 = 0.0, max(ys) * 1.1
    if x1 == x0:
        x0, x1 = x0 - 1, x1 + 1
    if y1 == y0:
        y1 = y0 + 1

    def px(v):
        return L + (fx(v) - x0) / (x1 - x0) * (W - L - R)

    def py(v):
        return H - B - (fy(v) - y0) / (y1 - y0) * (H - T - B)

    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" '
         f'viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">{title}</text>',
         f'<text x="{W / 2}" y="42" text-anchor="middle" font-size="11" fill="#444">{subtitle}</text>']
    # y grid
    if logy:
        yt = [10 ** e * m for e in range(math.floor(y0), math.ceil(y1) + 1) for m in (1, 2, 5)
              if y0 - 1e-9 <= math.log10(10 ** e * m) <= y1 + 1e-9]
    else:
        step = 10 ** math.floor(math.log10(y1 / 5)) if y1 > 0 else 1
        while y1 / step > 8:
            step *= 2
        yt = [i * step for i in range(int(y1 / step) + 1)]
    for v in yt:
        y = py(v)
        o.append(f'<line x1="{L}" y1="{y:.1f}" x2="{W - R}" y2="{y:.1f}" stroke="#ddd"/>')
        o.append(f'<text x="{L - 6}" y="{y + 4:.1f}" text-anchor="end">{v:g}</text>')
    for v in sorted(set(xs)):
        x = px(v)
        o.append(f'<line x1="{x:.1f}" y1="{T}" x2="{x:.1f}" y2="{H - B}" stroke="#eee"/>')
        o.append(f'<text x="{x:.1f}" y="{H - B + 16}" text-anchor="middle">{v:g}</text>')
    o.append(f'<rect x="{L}" y="{T}" width="{W - L - R}" height="{H - T - B}" fill="none" stroke="#333"/>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 18}" text-anchor="middle">{xlabel}</text>')
    o.append(f'<text x="18" y="{(T + H - B) / 2}" text-anchor="middle" '
             f'transform="rotate(-90 18 {(T + H - B) / 2})">{ylabel}</text>')
    for i, (name, s) in enumerate(series.items()):
        s = sorted(s)
        c = _color(name, i)
        path_d = " ".join(f"{'M' if j == 0 else 'L'}{px(x):.1f},{py(y):.1f}" for j, (x, y) in enumerate(s))
        o.append(f'<path d="{path_d}" fill="none" stroke="{c}" stroke-width="2"/>')
        for x, y in s:
            o.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{c}"/>')
        ly = T + 10 + 20 * i
        o.append(f'<line x1="{W - R + 12}" y1="{ly}" x2="{W - R + 32}" y2="{ly}" stroke="{c}" stroke-width="2"/>')
        o.append(f'<text x="{W - R + 38}" y="{ly + 4}">{name}</text>')
    if note:
        o.append(f'<text x="{L}" y="{H - 2}" font-size="10" fill="#666">{note}</text>')
    o.append("</svg>")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(o) + "\n")


# ---------------------------------------------------------------- report
def fmt_ms(v):
    return "—" if v is None else (f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:.0f}")


def shape_label(shape, lengths):
    name, b, s, _ = shape
    if s is None:
        return f"{b} texts, {int(lengths.min())}–{int(lengths.max())} tok (Σ {int(lengths.sum())})"
    return f"b{b}×{s}"


def markdown(results, shapes, engines, bertcpp_engines, setup, agreement, lengths,
             latency_only=False):
    # drop bertcpp columns with no result at all (e.g. a dtype not supported yet: see the notes)
    ok = {e for r in results.values() for e, v in r.items() if isinstance(v, dict) and "median_ms" in v}
    engines = [e for e in engines if e in ok or not e.startswith("bertcpp")]
    bertcpp_engines = [e for e in bertcpp_engines if e in ok]
    lines = [f"Set-up: {setup['cpu']}, {setup['threads']} threads per engine; "
             f"PyTorch {setup['torch']} ({setup['torch_blas']}), ONNX Runtime {setup['ort']} "
             f"(onnxruntime-node); PyTorch run with OPENBLAS_CORETYPE="
             f"{setup['OPENBLAS_CORETYPE'] or '(unset)'} (environment: "
             f"{setup['OPENBLAS_CORETYPE_env'] or 'unset'}); "
             f"model {setup['model_desc']}; {setup['date']}"
             + (f"; all engines at nice {setup['nice']}" if setup.get("nice") else "") + ".", ""]
    lines.append("Median latency in ms (lower is better); speed-up = peer median / bertcpp "
                 "median (> 1: bertcpp faster). Var-len: the peers get the batch padded to the "
                 "longest text, bertcpp gets the lengths (`--lengths`); tokens/s counts real "
                 "tokens for every engine.")
    lines.append("")
    hdr = ["shape"] + engines
    for be in bertcpp_engines:
        hdr += [f"{be} vs ORT", f"{be} vs PyTorch"]
        if be != "bertcpp-f32" and "bertcpp-f32" in bertcpp_engines:
            hdr.append(f"{be} vs own f32")
        hdr.append(f"{be} / GEMM floor²")
    hdr.append("other load¹")
    lines.append("| " + " | ".join(hdr) + " |")
    lines.append("|" + "---|" * len(hdr))
    for shape in shapes:
        r = results.get(shape[0], {})
        row = [shape_label(shape, lengths)]
        for e in engines:
            v = r.get(e, {})
            row.append(fmt_ms(v.get("median_ms")) if "median_ms" in v else
                       ("n/a" if e.startswith("bertcpp") else "error"))
        for be in bertcpp_engines:
            bm = r.get(be, {}).get("median_ms")
            peer_t = "pytorch-bf16" if be.endswith("bf16") else "pytorch-fp32"
            for peer in ("ort-fp32", peer_t):
                pm = r.get(peer, {}).get("median_ms")
                row.append(f"{pm / bm:.2f}×" if bm and pm else "—")
            if be != "bertcpp-f32" and "bertcpp-f32" in bertcpp_engines:
                fm = r.get("bertcpp-f32", {}).get("median_ms")
                row.append(f"{fm / bm:.2f}×" if bm and fm else "—")
            fl = r.get("_floor_ms", {}).get(be.split("-", 1)[1])
            row.append(f"{bm / fl:.2f}" if bm and fl else "—")
        row.append(f"{r.get('_cpu_other_during', r.get('_cpu_busy_before', 0)):.0%}")
        lines.append("| " + " | ".join(row) + " |")
    if latency_only:
        return "\n".join(lines[4:]) + "\n"
    lines.append("")
    lines.append("Throughput, tokens/s (median):")
    lines.append("")
    lines.append("| shape | " + " | ".join(engines) + " |")
    lines.append("|" + "---|" * (len(engines) + 1))
    for shape in shapes:
        r = results.get(shape[0], {})
        row = [shape_label(shape, lengths)]
        for e in engines:
            v = r.get(e, {}).get("tokens_per_s")
            row.append(f"{v:,.0f}" if v else "—")
        lines.append("| " + " | ".join(row) + " |")
    lines.append("")
    lines.append("¹ share of the machine's CPU time used by other processes while the peers "
                 "computed this row (0% = clean; more than a few % means the row is disturbed).")
    lines.append("")
    lines.append("² bertcpp median / the GEMM floor: oneDNN matmul alone on the encoder's GEMM "
                 "shapes for the real tokens, same dtype and threads, summed over layers "
                 "(`build/bin/gemm_floor`); 1.00 would be a forward pass that is nothing but "
                 "oneDNN's GEMMs. Floors (ms): " + "; ".join(
                     f"{shape_label(sh, lengths)} " + ", ".join(
                         f"{d} {v:.1f}" for d, v in results.get(sh[0], {}).get("_floor_ms", {}).items()
                         if not d.endswith("_weights_read"))
                     for sh in shapes if results.get(sh[0], {}).get("_floor_ms")) + ". "
                 "A forward must also read every weight once: streaming them takes (ms) " + ", ".join(
                     f"{d.split('_')[0]} {v:.1f}" for d, v in next(
                         (r.get("_floor_ms", {}) for r in results.values() if r.get("_floor_ms")), {}).items()
                     if d.endswith("_weights_read")) + " at the measured read bandwidth "
                 "(`gemm_floor --stream-mb`), the real floor of small batches.")
    lines.append("")
    lines.append("Numerical agreement first (last_hidden_state, max |Δ| over real tokens, "
                 "vs PyTorch fp32): " + ", ".join(
                     f"{k} {v:.2e}" if isinstance(v, float) else f"{k} {v}"
                     for k, v in agreement.items()) + ".")
    for note in setup.get("notes", []):
        lines.append("")
        lines.append(f"Note: {note}")
    return "\n".join(lines) + "\n"


def update_docs_block(path, text, block="results"):
    begin, end = f"<!-- bench:{block}:begin -->", f"<!-- bench:{block}:end -->"
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    i, j = doc.find(begin), doc.find(end)
    if i < 0 or j < i:
        return False
    doc = doc[:i + len(begin)] + "\n" + text + doc[j:]
    with open(path, "w", encoding="utf-8") as f:
        f.write(doc)
    return True


# ---------------------------------------------------------------- main
def ensure_checkpoint(args, outdir):
    if args.model:
        return args.model, None
    if args.quick:
        name, extra = "bert-mini", ["--hidden", "256", "--layers", "4", "--heads", "4",
                                    "--intermediate", "1024"]
    else:
        name, extra = "bert-base", ["--config", BASE_CONFIG]
    model = os.path.join(outdir, name)
    if not os.path.exists(os.path.join(model, "model.safetensors")):
        log(f"making random checkpoint {model}")
        subprocess.run([PY, os.path.join(ROOT, "tools", "make_checkpoint.py"), "--out", model,
                        "--seed", "0"] + extra, check=True)
    return model, name


def ensure_onnx(model, outdir):
    onnx = os.path.join(outdir, os.path.basename(os.path.normpath(model)) + ".onnx")
    st = os.path.join(model, "model.safetensors")
    if not os.path.exists(onnx) or os.path.getmtime(onnx) < os.path.getmtime(st):
        log(f"exporting {onnx}")
        subprocess.run([PY, os.path.join(BENCH, "peers", "torch_bert.py"), "export-onnx",
                        "--model", model, "--out", onnx], check=True,
                       stderr=subprocess.DEVNULL)
    return onnx


def main(argv=None):
    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run `finally`: stop the workers
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true", help="smoke run: small model, tiny shapes")
    ap.add_argument("--model", help="benchmark this HF checkpoint folder instead of random bert-base")
    ap.add_argument("--bertcpp", help="path of the bertcpp binary (default $BERTCPP or newest build*/bin/bertcpp)")
    ap.add_argument("--bertcpp-dtypes", default="f32,bf16,int8",
                    help="values passed to `bertcpp bench --dtype` (comma list, default f32,bf16,int8)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds per shape (default 3)")
    ap.add_argument("--iters-scale", type=float, default=1.0, help="multiply iteration counts")
    ap.add_argument("--no-chart-shapes", action="store_true",
                    help="skip the extra shapes used only for the charts")
    ap.add_argument("--shapes", help="comma list of shape names to run (e.g. b1x16,varlen64)")
    ap.add_argument("--no-docs", action="store_true",
                    help="do not write docs/*.svg nor the results block of docs/benchmarks.md")
    ap.add_argument("--agree-tol", type=float, default=1e-3,
                    help="max |Δ| allowed between PyTorch fp32 and ORT (default 1e-3)")
    ap.add_argument("--force", action="store_true", help="time even if the peers disagree")
    ap.add_argument("--out", default=os.path.join(BENCH, "out"))
    ap.add_argument("--openblas-coretype",
                    default=os.environ.get("OPENBLAS_CORETYPE") or "Cooperlake",
                    help="OPENBLAS_CORETYPE for the PyTorch peer (default: the environment's, "
                         "else Cooperlake: OpenBLAS 0.3.21 does not recognise newer Xeons and "
                         "falls back to its SSE3 'Prescott' kernels; '' = let OpenBLAS detect)")
    ap.add_argument("--wait-idle", type=float, default=120.0,
                    help="before each shape wait up to this many seconds for other processes "
                         "to leave the CPU idle (< 10%% busy); 0 = do not wait (default 120)")
    ap.add_argument("--nice", type=int, default=0,
                    help="run the harness and every engine at this nice value, also as the "
                         "session's autogroup nice (e.g. -20 as root, to measure on a machine others "
                         "are compiling on; recorded in results; reset to 0 at the end)")
    ap.add_argument("--report-only", action="store_true",
                    help="only re-render results.md, charts and the docs block from results.json")
    args = ap.parse_args(argv)
    if args.report_only:
        return report_only(args)
    args.bertcpp_dtypes = [d for d in args.bertcpp_dtypes.split(",") if d]
    if args.nice:
        os.nice(args.nice)  # inherited by the workers and bertcpp runs
        set_autogroup_nice(args.nice)

    outdir = args.out
    os.makedirs(os.path.join(outdir, "logs"), exist_ok=True)
    if not os.path.exists(os.path.join(BENCH, "node_modules", "onnxruntime-node")):
        log("installing onnxruntime-node into bench/node_modules (npm ci --ignore-scripts)")
        subprocess.run(["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=BENCH,
                       check=True)

    model, model_name = ensure_checkpoint(args, outdir)
    with open(os.path.join(model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    onnx = ensure_onnx(model, outdir)

    if args.quick:
        shapes = list(QUICK_SHAPES)
        args.rounds = min(args.rounds, 2)
    else:
        shapes = list(MAIN_SHAPES) + ([] if args.no_chart_shapes else list(CHART_SHAPES))
    if args.shapes:
        want = args.shapes.split(",")
        shapes = [s for s in shapes if s[0] in want]
    main_names = [s[0] for s in (QUICK_SHAPES if args.quick else MAIN_SHAPES)]

    # inputs
    vocab = cfg["vocab_size"]
    max_pos = cfg["max_position_embeddings"]
    inp_dir = os.path.join(outdir, "inputs", os.path.basename(os.path.normpath(model)))
    os.makedirs(inp_dir, exist_ok=True)
    n_var = next((s[1] for s in shapes if s[2] is None), 64)
    lengths = varlen_lengths(n_var, seed=1234, hi=min(256, max_pos))
    lengths_file = os.path.join(inp_dir, f"varlen{n_var}.lengths.txt")
    with open(lengths_file, "w") as f:
        f.write("\n".join(str(int(v)) for v in lengths) + "\n")
    inputs = {}
    for i, (name, b, s, _) in enumerate(shapes):
        p = os.path.join(inp_dir, f"{name}.safetensors")
        if s is None:
            make_inputs(p, lengths, int(lengths.max()), vocab, seed=100 + i)
        else:
            make_inputs(p, [s] * b, s, vocab, seed=100 + i)
        inputs[name] = p
    agree_in = os.path.join(inp_dir, "agree.safetensors")
    agree_len = [min(x, max_pos) for x in (128, 57, 16, 9)]
    make_inputs(agree_in, agree_len, max(agree_len), vocab, seed=7)

    # bertcpp availability
    notes = []
    bertcpp = find_bertcpp(args.bertcpp)
    bench_ok, bench_why = has_subcommand(bertcpp, "bench")
    if bertcpp:
        bt = build_type(bertcpp)
        log(f"bertcpp: {bertcpp} (CMAKE_BUILD_TYPE {bt or 'unknown'})")
        if bt not in ("Release", "RelWithDebInfo", ""):
            notes.append(f"bertcpp binary {bertcpp} is a {bt} build: its times are not representative")
    fwd_ok, fwd_why = has_subcommand(bertcpp, "forward")
    if not bench_ok:
        msg = f"bertcpp NOT TIMED: {bench_why}"
        log("!" * 70)
        log(msg)
        log("!" * 70)
        notes.append(msg)
    if not fwd_ok:
        msg = f"bertcpp numerics NOT CHECKED: {fwd_why}"
        log(msg)
        notes.append(msg)

    # peers
    env = dict(os.environ)
    env["OPENBLAS_VERBOSE"] = "2"  # OpenBLAS prints the kernel it picked ("Core: ...") to stderr
    if args.openblas_coretype:
        env["OPENBLAS_CORETYPE"] = args.openblas_coretype
    log("starting peers (PyTorch, ONNX Runtime)")
    workers = {
        "torch": Worker("pytorch", [PY, os.path.join(BENCH, "peers", "torch_bert.py"), "serve",
                                    "--model", model, "--threads", str(args.threads)],
                        os.path.join(outdir, "logs", "torch.log"), env=env),
        "ort": Worker("ort", ["node", os.path.join(BENCH, "peers", "ort_bench.mjs"), "serve",
                              "--onnx", onnx, "--threads", str(args.threads)],
                      os.path.join(outdir, "logs", "ort.log"), cwd=BENCH),
    }
    try:
        with open(os.path.join(outdir, "logs", "torch.log")) as f:
            core = [ln.split("Core:", 1)[1].strip() for ln in f if "Core:" in ln]
        torch_version = workers["torch"].hello.get("torch", "?")
        setup = {
            "cpu": platform.processor() or _cpu_model(), "threads": args.threads,
            "torch": torch_version, "torch_threads": workers["torch"].hello.get("threads"),
            "torch_blas": f"OpenBLAS kernel {core[-1]}" if core else "BLAS kernel not reported",
            "ort": workers["ort"].hello.get("ort_version"),
            "OPENBLAS_CORETYPE_env": os.environ.get("OPENBLAS_CORETYPE", ""),
            "OPENBLAS_CORETYPE": env.get("OPENBLAS_CORETYPE", ""),
            "model": model, "model_desc": _model_desc(cfg, model_name),
            "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
            "loadavg_start": os.getloadavg(), "notes": notes, "bertcpp": bertcpp,
            "varlen_lengths": [int(v) for v in lengths], "quick": bool(args.quick),
            "nice": args.nice,
        }
        setup["cpu"] = _cpu_model()

        log("checking numerical agreement (last_hidden_state vs PyTorch fp32)")
        agreement = check_agreement(args, workers, bertcpp, fwd_ok, model, agree_in, outdir)
        for k, v in agreement.items():
            log(f"  {k}: max|Δ| = {v:.3e}" if isinstance(v, float) else f"  {k}: {v}")
        if agreement["ort-fp32"] > args.agree_tol and not args.force:
            raise SystemExit(f"[bench] PyTorch and ORT disagree: max|Δ| {agreement['ort-fp32']:.3e}"
                             f" > {args.agree_tol}; not timing (use --force to time anyway)")
        for k, v in agreement.items():
            # f32 must match the reference; bf16/int8 are reported (compare: pytorch-bf16)
            if k == "bertcpp-f32" and isinstance(v, float) and v > args.agree_tol:
                notes.append(f"{k} DISAGREES with PyTorch fp32: max|Δ| {v:.3e}")

        engines = []
        bertcpp_engines = [f"bertcpp-{d}" for d in args.bertcpp_dtypes] if bench_ok else []
        engines = bertcpp_engines + ["pytorch-fp32", "pytorch-bf16", "ort-fp32"]
        results = {}
        unsupported = {}
        for shape in shapes:
            name, b, s, iters = shape
            iters = max(1, int(round(iters * args.iters_scale)))
            per_round = max(1, math.ceil(iters / args.rounds))
            padded = b * (int(lengths.max()) if s is None else s)

            def warmup(rnd, big=padded >= 4096):  # big shapes: one warm-up run in total
                return (1 if rnd == 0 else 0) if big else (2 if rnd == 0 else 1)
            acc = {e: {"times": [], "rounds": []} for e in engines}
            pids = [w.proc.pid for w in workers.values()]
            other_ticks = total_ticks = 0  # measured around the peers' pure-compute calls
            busy = wait_idle(args.wait_idle)
            log(f"shape {name}: {args.rounds} rounds x {per_round} iterations per engine"
                f" (CPU busy before start: {busy:.0%})")
            for rnd in range(args.rounds):
                if rnd:
                    wait_idle(min(args.wait_idle, 60), quiet=True)
                order = engines[rnd % len(engines):] + engines[:rnd % len(engines)]
                for e in order:
                    if "error" in acc[e] or e in unsupported:
                        continue  # failed earlier in this shape / dtype not supported
                    try:
                        if e.startswith("bertcpp"):
                            r = run_bertcpp_bench(bertcpp, model, shape, e.split("-", 1)[1],
                                                  args.threads, per_round, lengths_file,
                                                  max(1, warmup(rnd)))
                            acc[e]["rounds"].append(r)
                        else:
                            w = workers["torch"] if e.startswith("pytorch") else workers["ort"]
                            kw = {"dtype": e.split("-")[1]} if e.startswith("pytorch") else {}
                            tot0, busy0 = stat_ticks()
                            own0 = own_ticks(pids)
                            r = w.call(op="bench", inputs=inputs[name], iters=per_round,
                                       warmup=warmup(rnd), **kw)
                            tot1, busy1 = stat_ticks()
                            other_ticks += (busy1 - busy0) - (own_ticks(pids) - own0)
                            total_ticks += tot1 - tot0
                            acc[e]["times"] += r["times_ms"]
                    except Exception as ex:  # keep going; report it
                        acc[e]["error"] = str(ex)
                        log(f"  {e}: {ex}")
                        if "not supported" in str(ex):
                            unsupported[e] = str(ex)
                    time.sleep(0.05)
            other = max(0.0, other_ticks / max(1, total_ticks))
            log(f"  CPU used by other processes while timing: {other:.0%}")
            real_tokens = int(lengths.sum()) if s is None else b * s
            res = {}
            for e in engines:
                a = acc[e]
                if a["times"]:
                    med = statistics.median(a["times"])
                    res[e] = {"median_ms": med, "min_ms": min(a["times"]), "iters": len(a["times"]),
                              "tokens_per_s": real_tokens / (med / 1e3)}
                elif a["rounds"]:
                    med = statistics.median([x["median_ms"] for x in a["rounds"]])
                    res[e] = {"median_ms": med,
                              "min_ms": min(x.get("min_ms", x["median_ms"]) for x in a["rounds"]),
                              "iters": sum(int(x.get("iters", per_round)) for x in a["rounds"]),
                              "tokens_per_s": real_tokens / (med / 1e3),
                              "bertcpp_reported": a["rounds"]}
                else:
                    res[e] = {"error": a.get("error") or unsupported.get(e) or "no result"}
                    msg = f"{e} failed: {res[e]['error']}"
                    if msg not in notes:
                        notes.append(msg)
                if "median_ms" in res[e]:
                    log(f"  {e:14s} median {res[e]['median_ms']:9.2f} ms  min "
                        f"{res[e]['min_ms']:9.2f} ms  {res[e]['tokens_per_s']:10,.0f} tok/s")
            res["_cpu_busy_before"] = busy
            res["_cpu_other_during"] = other
            res["_floor_ms"] = gemm_floors(bertcpp, cfg, real_tokens, args.threads, args.bertcpp_dtypes)
            results[name] = res
        setup["loadavg_end"] = os.getloadavg()
    finally:
        for w in workers.values():
            w.close()
        if args.nice:
            set_autogroup_nice(0)

    report(args, outdir, shapes, main_names, engines, bertcpp_engines, setup, agreement,
           results, lengths)
    return 0


def cpu_busy(interval=1.0):
    """Fraction of all CPUs busy over `interval` seconds (from /proc/stat)."""
    def snap():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v), idle
    t0, i0 = snap()
    time.sleep(interval)
    t1, i1 = snap()
    return 1.0 - (i1 - i0) / max(1, t1 - t0)


CLK_TCK = os.sysconf("SC_CLK_TCK")


def stat_ticks():
    """(total, busy) CPU ticks of the whole machine."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return sum(v), sum(v) - idle


def own_ticks(worker_pids):
    """CPU ticks used by this harness, its waited children (bertcpp runs) and the workers."""
    t = os.times()
    ticks = (t.user + t.system + t.children_user + t.children_system) * CLK_TCK
    for pid in worker_pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except OSError:
            pass
    return ticks


def wait_idle(max_wait, quiet=False):
    """Wait (up to max_wait s) until other processes leave the CPU < 10% busy; return busy."""
    deadline = time.time() + max_wait
    busy = cpu_busy()
    warned = False
    while busy > 0.10 and time.time() < deadline:
        if not warned and not quiet:
            log(f"CPU {busy:.0%} busy (someone else is running); waiting up to {max_wait:.0f} s")
            warned = True
        busy = cpu_busy(2.0)
    if busy > 0.10 and not quiet:
        log(f"WARNING: timing with the CPU {busy:.0%} busy from other processes")
    return busy


def report(args, outdir, shapes, main_names, engines, bertcpp_engines, setup, agreement, results,
           lengths):
    """Write results.md, results.json, the SVG charts and (full runs) the docs block."""
    quick = setup.get("quick", False)
    main_shapes = [s for s in shapes if s[0] in main_names]
    md = markdown(results, main_shapes, engines, bertcpp_engines, setup, agreement, lengths)
    extra = [s for s in shapes if s[0] not in main_names]
    if extra:
        md += "\nExtra shapes (charts), median ms:\n\n" + markdown(
            results, extra, engines, bertcpp_engines, setup, agreement, lengths, latency_only=True)
    with open(os.path.join(outdir, "results.md"), "w", encoding="utf-8") as f:
        f.write("# bertcpp benchmark results\n\n" + md)
    with open(os.path.join(outdir, "results.json"), "w", encoding="utf-8") as f:
        json.dump({"setup": setup, "agreement": agreement, "engines": engines,
                   "shapes": [{"name": n, "batch": b, "seq": s} for n, b, s, _ in shapes],
                   "results": results}, f, indent=1)

    # charts
    chart_dirs = [outdir] + ([] if (quick or args.no_docs) else [os.path.join(ROOT, "docs")])
    seq_series, batch_series = {}, {}
    for name, b, s, _ in shapes:
        for e in engines:
            m = results.get(name, {}).get(e, {}).get("median_ms")
            if not m or s is None:
                continue
            if b == 1:
                seq_series.setdefault(e, []).append((s, m))
            if s == 128 or (quick and s == 32):
                batch_series.setdefault(e, []).append((b, b * s / (m / 1e3)))
    desc = setup["model_desc"]
    note = f"{setup['cpu']}, {setup['threads']} threads, {setup['date']}"
    for d in chart_dirs:
        svg_chart(os.path.join(d, "bench-latency-vs-seq.svg"),
                  "Latency vs sequence length, batch 1", "sequence length (tokens)",
                  "median latency (ms)", seq_series, note=note, subtitle=desc)
        bseq = 32 if quick else 128
        svg_chart(os.path.join(d, "bench-throughput-vs-batch.svg"),
                  f"Throughput vs batch size, seq {bseq}", "batch size",
                  "tokens / s", batch_series, logy=False, note=note, subtitle=desc)
    if not (quick or args.no_docs):
        if update_docs_block(os.path.join(ROOT, "docs", "benchmarks.md"), md):
            log("updated the results block of docs/benchmarks.md")
    print(md)
    log(f"wrote {outdir}/results.md, results.json and charts in {', '.join(chart_dirs)}")


def report_only(args):
    with open(os.path.join(args.out, "results.json"), encoding="utf-8") as f:
        data = json.load(f)
    setup = data["setup"]
    shapes = [(x["name"], x["batch"], x["seq"], 0) for x in data["shapes"]]
    main_names = [x[0] for x in (QUICK_SHAPES if setup.get("quick") else MAIN_SHAPES)]
    engines = data["engines"]
    report(args, args.out, shapes, main_names, engines,
           [e for e in engines if e.startswith("bertcpp")], setup, data["agreement"],
           data["results"], np.array(setup["varlen_lengths"]))
    return 0


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for ln in f:
                if ln.startswith("model name"):
                    return f"{ln.split(':', 1)[1].strip()} ({os.cpu_count()} cores)"
    except OSError:
        pass
    return platform.machine()


def _model_desc(cfg, name):
    return (f"{name or 'model'}: {cfg['num_hidden_layers']} layers, hidden {cfg['hidden_size']}, "
            f"{cfg['num_attention_heads']} heads, random weights")


if __name__ == "__main__":
    sys.exit(main())
