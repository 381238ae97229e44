#!/usr/bin/python3
"""PyTorch peer for the bertcpp benchmark: a minimal, self-written BERT (no transformers).

Mirrors transformers' BertModel (embeddings -> N x [self-attention with additive mask, output
dense + residual + LayerNorm, intermediate + activation, output dense + residual + LayerNorm]
-> pooler) and loads a Hugging Face checkpoint folder (config.json + model.safetensors, parsed
with numpy; `bert.` prefix and legacy LayerNorm.gamma/beta names accepted).

Subcommands (run with Debian's /usr/bin/python3, which has torch 1.13):
  verify  --golden DIR          compare against DIR/expected.safetensors (max |d| <= 1e-4)
  bench   --model DIR --inputs F.safetensors [--dtype fp32|bf16] [--threads 2] [--iters K]
  forward --model DIR --inputs F.safetensors --out OUT.safetensors [--dtype fp32|bf16]
  export-onnx --model DIR --out model.onnx   (opset 14, dynamic axes batch/seq)
  serve   --model DIR [--threads 2]   JSON lines on stdin -> JSON lines on stdout (harness worker)
Input files hold I64 `input_ids`, `attention_mask`, `token_type_ids` of shape [batch, seq].
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
import safetensors_np  # noqa: E402
import worker  # noqa: E402  (bench/peers/worker.py, beside this file)


def _gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


ACTIVATIONS = {
    "gelu": lambda x: nn.functional.gelu(x),  # erf form, as transformers' "gelu"
    "gelu_new": _gelu_new,
    "gelu_pytorch_tanh": lambda x: nn.functional.gelu(x, approximate="tanh"),
    "relu": nn.functional.relu,
    "silu": nn.functional.silu,
    "swish": nn.functional.silu,
}


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, input_ids, token_type_ids):
        seq = input_ids.shape[1]
        pos = torch.arange(seq, dtype=torch.long, device=input_ids.device).unsqueeze(0)
        x = (self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
             + self.position_embeddings(pos))
        return self.LayerNorm(x)


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c["num_attention_heads"]
        self.head_dim = c["hidden_size"] // self.heads
        self.query = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.key = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.value = nn.Linear(c["hidden_size"], c["hidden_size"])

    def split(self, x):  # [b, s, h] -> [b, heads, s, d]   (transformers' transpose_for_scores)
        x = x.view(x.size()[:-1] + (self.heads, self.head_dim))
        return x.permute(0, 2, 1, 3)

    def forward(self, x, additive_mask):
        q = self.split(self.query(x))
        k = self.split(self.key(x))
        v = self.split(self.value(x))
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = scores + additive_mask
        probs = nn.functional.softmax(scores, dim=-1)
        ctx = torch.matmul(probs, v).permute(0, 2, 1, 3).contiguous()
        return ctx.view(ctx.size()[:-2] + (self.heads * self.head_dim,))


class DenseLayerNorm(nn.Module):  # BertSelfOutput / BertOutput
    def __init__(self, c, in_features):
        super().__init__()
        self.dense = nn.Linear(in_features, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dense(x) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseLayerNorm(c, c["hidden_size"])

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])
        act = c.get("hidden_act", "gelu")
        if act not in ACTIVATIONS:
            raise SystemExit(f"torch_bert: hidden_act {act!r} not supported")
        self.act = ACTIVATIONS[act]

    def forward(self, x):
        return self.act(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseLayerNorm(c, c["intermediate_size"])

    def forward(self, x, additive_mask):
        a = self.attention(x, additive_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([Layer(c) for _ in range(c["num_hidden_layers"])])


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, input_ids, attention_mask, token_type_ids, all_hidden=False):
        # transformers 4.19 get_extended_attention_mask: (1 - mask) * -10000 on [b, 1, 1, s]
        ext = attention_mask[:, None, None, :].to(torch.float32)
        ext = (1.0 - ext) * -10000.0
        x = self.embeddings(input_ids, token_type_ids)
        hidden = [x]
        for layer in self.encoder.layer:
            x = layer(x, ext)
            hidden.append(x)
        pooled = self.pooler(x)
        if all_hidden:
            return x, pooled, torch.stack(hidden)
        return x, pooled


def load_model(model_dir: str) -> BertModel:
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.setdefault("layer_norm_eps", 1e-12)
    cfg.setdefault("type_vocab_size", 2)
    pe = cfg.get("position_embedding_type", "absolute")
    if pe != "absolute":
        raise SystemExit(f"torch_bert: position_embedding_type {pe!r} not supported")
    weights = safetensors_np.read(os.path.join(model_dir, "model.safetensors"), as_f32=True)
    model = BertModel(cfg)
    state = {}
    for name, arr in weights.items():
        n = name[len("bert."):] if name.startswith("bert.") else name
        n = n.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
        state[n] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    own = model.state_dict()
    missing = [k for k in own if k not in state]
    if missing:
        raise SystemExit(f"torch_bert: {model_dir}/model.safetensors lacks {missing[:3]} "
                         f"(+{max(0, len(missing) - 3)} more)")
    model.load_state_dict({k: state[k] for k in own}, strict=True)
    model.eval()
    return model


def load_inputs(path: str):
    t = safetensors_np.read(path)
    ids = torch.from_numpy(t["input_ids"].astype(np.int64))
    mask = torch.from_numpy(t["attention_mask"].astype(np.int64)) if "attention_mask" in t \
        else torch.ones_like(ids)
    tt = torch.from_numpy(t["token_type_ids"].astype(np.int64)) if "token_type_ids" in t \
        else torch.zeros_like(ids)
    return ids, mask, tt


def run_forward(model, inputs, dtype="fp32"):
    with torch.inference_mode():
        if dtype == "bf16":
            with torch.autocast("cpu", dtype=torch.bfloat16):
                out = model(*inputs)
        elif dtype == "fp32":
            out = model(*inputs)
        else:
            raise SystemExit(f"torch_bert: --dtype {dtype!r} not supported (fp32, bf16)")
    return [o.float() for o in out]


def summary(times, real_tokens):
    return {**worker.summary(times), "tokens_per_s": real_tokens / (statistics.median(times) / 1e3)}


def cmd_verify(args):
    exp, _ = safetensors_np.read_with_dtypes(os.path.join(args.golden, "expected.safetensors"))
    exp = {k: (v.astype(np.float32) if v.dtype == np.float16 else
               safetensors_np.bf16_bits_to_f32(v) if v.dtype == np.uint16 else v)
           for k, v in exp.items()}
    model = load_model(args.golden)
    torch.set_num_threads(args.threads)
    worst = 0.0
    report = {}
    cases = sorted({k.split(".")[0] for k in exp})
    for case in cases:
        if f"{case}.input_ids" not in exp:
            continue
        ids = torch.from_numpy(exp[f"{case}.input_ids"].astype(np.int64))
        mask = torch.from_numpy(exp[f"{case}.attention_mask"].astype(np.int64))
        tt = torch.from_numpy(exp[f"{case}.token_type_ids"].astype(np.int64))
        with torch.inference_mode():
            last, pooled, hidden = model(ids, mask, tt, all_hidden=True)
        m = mask.numpy().astype(bool)
        for out, got in (("last_hidden_state", last), ("pooler_output", pooled),
                         ("hidden_states", hidden)):
            key = f"{case}.{out}"
            if key not in exp:
                continue
            g, e = got.numpy(), exp[key]
            if g.shape != e.shape:
                raise SystemExit(f"torch_bert verify: {key} shape {g.shape} != expected {e.shape}")
            d = np.abs(g - e)
            if out == "last_hidden_state":
                d = d[m]
            elif out == "hidden_states":
                d = d[:, m]
            report[key] = float(d.max())
            worst = max(worst, report[key])
    ok = worst <= args.tol
    print(json.dumps({"golden": args.golden, "max_abs_diff": worst, "tolerance": args.tol,
                      "ok": ok, "per_output": report}, indent=1))
    return 0 if ok else 1


def cmd_bench(args):
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    inputs = load_inputs(args.inputs)
    times = worker.time_calls(lambda: run_forward(model, inputs, args.dtype), args.iters, args.warmup)
    res = summary(times, int(inputs[1].sum()))
    res.update({"engine": f"pytorch-{args.dtype}", "threads": torch.get_num_threads(),
                "batch": int(inputs[0].shape[0]), "seq": int(inputs[0].shape[1])})
    print(json.dumps(res))
    return 0


def cmd_forward(args):
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    last, pooled = run_forward(model, load_inputs(args.inputs), args.dtype)
    safetensors_np.write(args.out, {"last_hidden_state": last.numpy(),
                                    "pooler_output": pooled.numpy()})
    return 0


def cmd_export(args):
    model = load_model(args.model)
    ids = torch.randint(1000, 2000, (2, 16), dtype=torch.long)
    mask = torch.ones_like(ids)
    tt = torch.zeros_like(ids)
    dyn = {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"},
           "token_type_ids": {0: "batch", 1: "seq"}, "last_hidden_state": {0: "batch", 1: "seq"},
           "pooler_output": {0: "batch"}}
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask, tt), args.out, opset_version=14,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state", "pooler_output"],
                          dynamic_axes=dyn, do_constant_folding=True)
    print(f"torch_bert: exported {args.out} ({os.path.getsize(args.out) / 2**20:.1f} MiB, opset 14)")
    return 0


def cmd_serve(args):
    """Worker for bench/run.py: one JSON request per stdin line, one JSON reply per line.
    {"op": "bench", "inputs": F, "dtype": "fp32", "iters": K, "warmup": W}
    {"op": "forward", "inputs": F, "out": OUT, "dtype": "fp32"}   {"op": "quit"}"""
    torch.set_num_threads(args.threads)
    model = load_model(args.model)
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(),
                      "torch": torch.__version__}), flush=True)
    def bench(req, inputs):
        times = worker.time_calls(lambda: run_forward(model, inputs, req.get("dtype", "fp32")),
                                  int(req.get("iters", 10)), int(req.get("warmup", 1)))
        return summary(times, int(inputs[1].sum()))

    def forward(req, inputs):
        last, pooled = run_forward(model, inputs, req.get("dtype", "fp32"))
        safetensors_np.write(req["out"], {"last_hidden_state": last.numpy(), "pooler_output": pooled.numpy()})
        return {"ok": True}

    return worker.serve(load_inputs, {"bench": bench, "forward": forward})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("verify", help="compare with a golden model folder")
    p.add_argument("--golden", required=True)
    p.add_argument("--tol", type=float, default=1e-4)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(fn=cmd_verify)
    for name, fn in (("bench", cmd_bench), ("forward", cmd_forward)):
        p = sub.add_parser(name)
        p.add_argument("--model", required=True)
        p.add_argument("--inputs", required=True)
        p.add_argument("--dtype", default="fp32", choices=["fp32", "bf16"])
        p.add_argument("--threads", type=int, default=2)
        if name == "bench":
            p.add_argument("--iters", type=int, default=10)
            p.add_argument("--warmup", type=int, default=2)
        else:
            p.add_argument("--out", required=True)
        p.set_defaults(fn=fn)
    p = sub.add_parser("export-onnx")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(fn=cmd_export)
    p = sub.add_parser("serve")
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(fn=cmd_serve)
    args = ap.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
