"""One measurement per process for bench/long (run with the reference venv's python; onnx/onnxruntime
come from ~/.cache/bertcpp/venv-longctx, put on sys.path by the harness through PYTHONPATH).

Subcommands:
  make --out DIR                 random-weight ModernBERT-base checkpoint (answerdotai/ModernBERT-base's
                                 config) written by transformers' save_pretrained, plus a tokenizer
  export-onnx --model DIR --out F.onnx   torch.onnx export, dynamic sequence axis
  forward --engine E --model DIR --inputs F.safetensors --out F.safetensors   last_hidden_state
  time --engine E --model DIR --seq S --iters N --warmup W   one JSON line: times, peak RSS
Engines: torch-fp32, torch-bf16 (CPU autocast), ort-fp32 (--model is then the .onnx file).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import safetensors_np  # noqa: E402

THREADS = 2
# answerdotai/ModernBERT-base's config.json (the values that shape the compute).
BASE = dict(vocab_size=50368, hidden_size=768, num_hidden_layers=22, num_attention_heads=12,
            intermediate_size=1152, hidden_activation="gelu", max_position_embeddings=8192,
            global_attn_every_n_layers=3, local_attention=128, norm_eps=1e-5, norm_bias=False,
            attention_bias=False, mlp_bias=False, pad_token_id=50283, bos_token_id=50281,
            eos_token_id=50282, cls_token_id=50281, sep_token_id=50282)


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def make(args):
    import torch
    import transformers
    cfg = transformers.ModernBertConfig(**BASE, rope_parameters={
        "full_attention": {"rope_type": "default", "rope_theta": 160000.0},
        "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}})
    torch.manual_seed(0)
    model = transformers.ModernBertModel(cfg).eval()
    tmp = args.out + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    # The byte-level BPE of the tiny golden model: bench inputs are random ids, the tokenizer only has to load.
    src = os.path.join(ROOT, "tests", "data", "models", "tiny-modernbert")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(src, f), tmp)
    os.replace(tmp, args.out)


def load_torch(model_dir):
    import torch
    import transformers
    torch.set_num_threads(THREADS)
    torch.set_num_interop_threads(1)
    m = transformers.ModernBertModel.from_pretrained(model_dir, attn_implementation="sdpa",
                                                     dtype=torch.float32).eval()
    return m


def runner(engine, model):
    """A callable ids[1, S] (int64 numpy) -> last_hidden_state (numpy f32)."""
    if engine.startswith("torch"):
        import torch
        m = load_torch(model)
        bf16 = engine == "torch-bf16"

        def run(ids):
            t = torch.from_numpy(ids)
            with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
                out = m(input_ids=t, attention_mask=torch.ones_like(t)).last_hidden_state
            return out.float().numpy()
        return run
    if engine == "ort-fp32":
        import onnxruntime as ort
        so = ort.SessionOptions()
        so.intra_op_num_threads = THREADS
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(model, so, providers=["CPUExecutionProvider"])

        def run(ids):
            return sess.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": np.ones_like(ids)})[0]
        return run
    raise SystemExit(f"worker: unknown engine {engine!r} (torch-fp32, torch-bf16, ort-fp32)")


def export_onnx(args):
    import torch
    m = load_torch(args.model)

    class Wrap(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.randint(5, 500, (1, 300))
    seq = torch.export.Dim("seq", min=2, max=8192)
    # Weights go to <out>.data beside it (the graph names that file, so it is written in place).
    torch.onnx.export(Wrap(m).eval(), (ids, torch.ones_like(ids)), args.out, dynamo=True,
                      input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
                      dynamic_shapes=({1: seq}, {1: seq}), external_data=True)


def forward(args):
    ids = safetensors_np.read(args.inputs)["input_ids"]
    out = runner(args.engine, args.model)(ids)
    safetensors_np.write(args.out, {"last_hidden_state": np.ascontiguousarray(out, dtype=np.float32)})


def time_it(args):
    run = runner(args.engine, args.model)
    rss_load = peak_rss_mb()
    ids = np.random.default_rng(args.seq).integers(5, 500, size=(1, args.seq), dtype=np.int64)
    ids[0, 0], ids[0, -1] = BASE["cls_token_id"], BASE["sep_token_id"]
    for _ in range(args.warmup):
        run(ids)
    times = []
    for _ in range(args.iters):
        t0 = time.perf_counter()
        run(ids)
        times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"engine": args.engine, "seq": args.seq, "iters": args.iters, "warmup": args.warmup,
                      "times_ms": times, "median_ms": statistics.median(times),
                      "rss_after_load_mb": rss_load, "peak_rss_mb": peak_rss_mb()}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("make")
    s.add_argument("--out", required=True)
    s = sub.add_parser("export-onnx")
    s.add_argument("--model", required=True)
    s.add_argument("--out", required=True)
    for name in ("forward", "time"):
        s = sub.add_parser(name)
        s.add_argument("--engine", required=True)
        s.add_argument("--model", required=True)
        if name == "forward":
            s.add_argument("--inputs", required=True)
            s.add_argument("--out", required=True)
        else:
            s.add_argument("--seq", type=int, required=True)
            s.add_argument("--iters", type=int, default=3)
            s.add_argument("--warmup", type=int, default=1)
    args = p.parse_args()
    {"make": make, "export-onnx": export_onnx, "forward": forward, "time": time_it}[args.cmd](args)


if __name__ == "__main__":
    main()
