#!/usr/bin/env python3
"""Serving benchmark (issue 17 item 4): `bertcpp serve` req/s and p50/p99 latency at 1, 8 and 64
closed-loop clients (POST /embed, one sentence per request) vs the in-process throughput of the same
model on the same sentences (`bertcpp embed`), and vs a tiny sentence-transformers FastAPI server.

Run by hand, never on CI; each step is separate so a shared machine can gate it:
    bench/serve_bench.py serve    [--bertcpp BIN]   bertcpp serve at 1/8/64 clients + GET /health ceiling
    bench/serve_bench.py inproc   [--bertcpp BIN]   bertcpp embed -t 2 over the same sentences, one process
    bench/serve_bench.py st                         sentence-transformers + FastAPI/uvicorn peer (ref venv)
    bench/serve_bench.py report                     markdown table (stdout)
    bench/serve_bench.py all                        serve, inproc, st, report
Results: ~/.cache/bertcpp/bench/serving/*.json (outside the tree). The load generator is this
process: asyncio, raw HTTP/1.1 keep-alive sockets, one connection per client; its own CPU time in
the measured window is reported (it shares the cores with the server), and the same generator
against GET /health (answered on the server's epoll thread, no model) gives its req/s ceiling.
The peer needs fastapi + uvicorn in ~/.cache/bertcpp/venv-serving (`pip install fastapi uvicorn`)
and runs with /work/venv/ref/bin/python (torch, sentence-transformers), that venv's own packages first.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import re
import shlex
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
sys.path.insert(0, BENCH)
CACHE = os.path.expanduser(os.environ.get("BERTCPP_BENCH_CACHE", "~/.cache/bertcpp/bench"))
OUT = os.path.join(CACHE, "serving")
SENTENCES = os.path.join(CACHE, "sentences-20000.txt")  # bench/make_sentences.py, as bench/real.py
MODEL = os.path.expanduser("~/.cache/bertcpp/real-models/models/all-MiniLM-L6-v2")
REF_PY = "/work/venv/ref/bin/python"
SERVING_VENV = os.path.expanduser("~/.cache/bertcpp/venv-serving")


def log(*a):
    print("[serve_bench]", *a, file=sys.stderr, flush=True)


def sentences(n):
    if not os.path.exists(SENTENCES):
        subprocess.run([sys.executable, os.path.join(BENCH, "make_sentences.py"), "--out", SENTENCES],
                       check=True)
    with open(SENTENCES, encoding="utf-8") as f:
        lines = [ln.rstrip("\n") for ln in f]
    return lines[:n]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_health(port, proc, timeout=120):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before /health answered")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                if r.status == 200:
                    return time.time() - t0
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"/health on port {port} did not answer within {timeout} s")


# ---------------------------------------------------------------- load generator

async def _client(port, reqs, state, lat, statuses):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while not state["stop"]:
            i = state["next"]
            state["next"] = i + 1
            req = reqs[i % len(reqs)]
            t0 = time.perf_counter()
            writer.write(req)
            head = await reader.readuntil(b"\r\n\r\n")
            m = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if not m:
                raise RuntimeError(f"response without Content-Length: {head[:200]!r}")
            await reader.readexactly(int(m.group(1)))
            t1 = time.perf_counter()
            if state["measuring"] and t0 >= state["t_start"]:
                lat.append(t1 - t0)
                code = int(head.split(b" ", 2)[1])
                statuses[code] = statuses.get(code, 0) + 1
    finally:
        writer.close()


async def _load(port, reqs, clients, warmup, duration):
    state = {"stop": False, "next": 0, "measuring": False, "t_start": 0.0}
    lat, statuses = [], {}
    tasks = [asyncio.create_task(_client(port, reqs, state, lat, statuses)) for _ in range(clients)]
    await asyncio.sleep(warmup)
    state["t_start"] = time.perf_counter()
    state["measuring"] = True
    cpu0 = time.process_time()
    await asyncio.sleep(duration)
    state["measuring"] = False  # requests completing after this are not counted
    t_end = time.perf_counter()
    cpu1 = time.process_time()
    state["stop"] = True
    await asyncio.gather(*tasks)
    window = t_end - state["t_start"]
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1e3 if lat else float("nan")  # noqa: E731
    return {"clients": clients, "requests": len(lat), "window_s": window, "req_s": len(lat) / window,
            "p50_ms": q(0.50), "p90_ms": q(0.90), "p99_ms": q(0.99), "mean_ms": statistics.fmean(lat) * 1e3,
            "statuses": {str(k): v for k, v in statuses.items()},
            "client_cpu_cores": (cpu1 - cpu0) / window}


def post_embed_requests(texts):
    out = []
    for t in texts:
        body = json.dumps({"inputs": t}).encode()
        out.append(b"POST /embed HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                   b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    return out


GET_HEALTH = [b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"]


def run_levels(port, reqs, levels, warmup, duration, label):
    rows = []
    for c in levels:
        r = asyncio.run(_load(port, reqs, c, warmup, duration))
        log(f"{label} c={c}: {r['req_s']:.1f} req/s p50 {r['p50_ms']:.1f} ms p99 {r['p99_ms']:.1f} ms "
            f"client {r['client_cpu_cores']:.2f} cores statuses {r['statuses']}")
        rows.append(r)
    return rows


def metrics(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    out = {}
    for name in ("te_batch_next_size", "te_batch_next_tokens"):
        s = re.search(rf"^{name}_sum\S*\s+(\S+)", text, re.M)
        n = re.search(rf"^{name}_count\S*\s+(\S+)", text, re.M)
        if s and n:
            out[name] = {"sum": float(s.group(1)), "count": float(n.group(1))}
    return out


def delta(m1, m0):
    out = {}
    for k, v in m1.items():
        s = v["sum"] - m0.get(k, {}).get("sum", 0.0)
        n = v["count"] - m0.get(k, {}).get("count", 0.0)
        out[k] = {"batches": n, "mean": s / n if n else float("nan")}
    return out


def save(name, obj):
    os.makedirs(OUT, exist_ok=True)
    obj["date"] = datetime.datetime.utcnow().isoformat() + "Z"
    with open(os.path.join(OUT, name + ".json"), "w") as f:
        json.dump(obj, f, indent=1)
    log("wrote", os.path.join(OUT, name + ".json"))


def find_bertcpp(explicit):
    b = explicit or os.environ.get("BERTCPP")
    if not b:  # this tree's build (not the sanitizer one): the load generator needs no numpy
        cands = [os.path.join(ROOT, d, "bin", "bertcpp") for d in os.listdir(ROOT)
                 if d.startswith("build") and "asan" not in d]
        cands = [c for c in cands if os.access(c, os.X_OK)]
        b = max(cands, key=os.path.getmtime) if cands else None
    if not b:
        raise SystemExit("no bertcpp binary: build first (scripts/build.sh) or pass --bertcpp")
    return os.path.abspath(b)


# ---------------------------------------------------------------- steps

def cmd_serve(a):
    b = find_bertcpp(a.bertcpp)
    port = free_port()
    argv = [b, "serve", "--model", a.model, "--dtype", "f32", "-t", str(a.threads), "--port", str(port)]
    log("starting", shlex.join(argv))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        ready = wait_health(port, proc)
        reqs = post_embed_requests(sentences(a.n))
        levels = [int(x) for x in a.levels.split(",")]
        health = run_levels(port, GET_HEALTH, levels, 1.0, a.health_seconds, "GET /health")
        rows = []
        for c in levels:
            m0 = metrics(port)
            r = run_levels(port, reqs, [c], a.warmup, a.duration, "POST /embed")[0]
            r["batches"] = delta(metrics(port), m0)  # warm-up included: the same load
            rows.append(r)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    save("serve", {"command": shlex.join(argv), "ready_s": ready, "n_sentences": a.n,
                   "warmup_s": a.warmup, "duration_s": a.duration, "embed": rows, "health": health})


def cmd_inproc(a):
    b = find_bertcpp(a.bertcpp)
    os.makedirs(OUT, exist_ok=True)
    inp = os.path.join(OUT, f"sentences-{a.n}.txt")
    one = os.path.join(OUT, "sentences-1.txt")
    texts = sentences(a.n)
    with open(inp, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    with open(one, "w", encoding="utf-8") as f:
        f.write(texts[0] + "\n")
    res = {}
    for name, path in (("one", one), ("all", inp)):
        argv = [b, "embed", "-m", a.model, "-t", str(a.threads), "--dtype", "f32", "-i", path,
                "-f", "npy", "-o", os.path.join(OUT, f"inproc-{name}.npy")]
        walls = []
        for _ in range(a.rounds):
            t0 = time.perf_counter()
            subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
            walls.append(time.perf_counter() - t0)
        res[name] = {"command": shlex.join(argv), "walls_s": walls, "wall_s": min(walls)}
        log(f"embed {name}: {walls}")
    n = len(texts)
    res["n"] = n
    res["sent_per_s"] = n / res["all"]["wall_s"]
    # the start-up + load of a 1-sentence run taken away: the model's steady throughput
    res["sent_per_s_no_load"] = n / (res["all"]["wall_s"] - res["one"]["wall_s"])
    log(f"in-process: {res['sent_per_s']:.1f} sent/s, {res['sent_per_s_no_load']:.1f} without load")
    save("inproc", res)


ST_SERVER = r'''
import sys, os, glob
sys.path += glob.glob(os.path.join(sys.argv[3], "lib", "python3*", "site-packages"))  # ref venv first
import torch
torch.set_num_threads(int(sys.argv[4]))
from fastapi import FastAPI, Body
import uvicorn
from sentence_transformers import SentenceTransformer
model = SentenceTransformer(sys.argv[1], device="cpu")
app = FastAPI()
@app.get("/health")
def health():
    return {}
@app.post("/embed")
def embed(body: dict = Body(...)):   # sync: FastAPI runs it in its thread pool, one sentence per call
    return model.encode([body["inputs"]], normalize_embeddings=True).tolist()
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
'''


def cmd_st(a):
    if not os.path.exists(REF_PY):
        log(f"skipped: {REF_PY} missing")
        return
    port = free_port()
    script = os.path.join(OUT, "st_fastapi_server.py")
    os.makedirs(OUT, exist_ok=True)
    with open(script, "w") as f:
        f.write(ST_SERVER)
    argv = [REF_PY, script, a.model, str(port), SERVING_VENV, str(a.threads)]
    log("starting", shlex.join(argv))
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(os.path.join(OUT, "st.log"), "w"))
    try:
        ready = wait_health(port, proc)
        reqs = post_embed_requests(sentences(a.n))
        levels = [int(x) for x in a.levels.split(",")]
        rows = run_levels(port, reqs, levels, a.warmup, a.duration, "ST FastAPI /embed")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    save("st", {"command": shlex.join(argv), "ready_s": ready, "n_sentences": a.n, "embed": rows})


def load_json(name):
    p = os.path.join(OUT, name + ".json")
    return json.load(open(p)) if os.path.exists(p) else None


def cmd_report(a):
    s, ip, st = load_json("serve"), load_json("inproc"), load_json("st")
    base = ip["sent_per_s_no_load"] if ip else None
    lines = ["| server | clients | req/s | p50 ms | p99 ms | vs in-process | mean batch (inputs) | "
             "load-generator CPU (cores) | GET /health req/s (same generator) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, res in (("bertcpp serve", s), ("ST + FastAPI", st)):
        if not res:
            continue
        health = {h["clients"]: h["req_s"] for h in (s or {}).get("health", [])} if name.startswith("bertcpp") else {}
        for r in res["embed"]:
            bs = r.get("batches", {}).get("te_batch_next_size", {}).get("mean")
            ratio = f"{r['req_s'] / base:.2f}×" if base else "–"
            hr = f"{health[r['clients']]:,.0f}" if r["clients"] in health else "–"
            lines.append(f"| {name} | {r['clients']} | {r['req_s']:.1f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                         f"{ratio} | {f'{bs:.1f}' if bs else '–'} | {r['client_cpu_cores']:.2f} | {hr} |")
    if ip:
        lines.append(f"\nIn process (`bertcpp embed`, {ip['n']:,} sentences, one process): "
                     f"{ip['sent_per_s']:.1f} sentences/s with start-up and load "
                     f"(wall {ip['all']['wall_s']:.2f} s, runs {', '.join(f'{w:.2f}' for w in ip['all']['walls_s'])}), "
                     f"{base:.1f} sentences/s without it (1-sentence run {ip['one']['wall_s']:.2f} s subtracted).")
    print("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["serve", "inproc", "st", "report", "all"])
    ap.add_argument("--bertcpp")
    ap.add_argument("--model", default=MODEL)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--levels", default="1,8,64")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--health-seconds", type=float, default=5.0)
    ap.add_argument("--n", type=int, default=5000, help="sentences cycled by the clients / embedded in process")
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    steps = {"serve": [cmd_serve], "inproc": [cmd_inproc], "st": [cmd_st], "report": [cmd_report],
             "all": [cmd_serve, cmd_inproc, cmd_st, cmd_report]}[a.step]
    for f in steps:
        f(a)


if __name__ == "__main__":
    main()
