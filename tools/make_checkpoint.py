#!/usr/bin/python3
"""Write a random-weight BERT checkpoint in real Hugging Face layout (numpy only).

Output folder: config.json, model.safetensors (transformers BertModel tensor names, Linear
weights [out, in]), vocab.txt and tokenizer_config.json (copied from --vocab-dir).

Examples
  # bert-base-uncased shape, fp32 (~440 MB)
  /usr/bin/python3 tools/make_checkpoint.py \
      --config /work/shared/golden/vocabs/bert-base-uncased/config.json --out bench/out/bert-base
  # tiny test model with 2 outlier channels, bf16, small vocab
  /usr/bin/python3 tools/make_checkpoint.py --hidden 32 --layers 2 --heads 4 --intermediate 64 \
      --vocab-size 1000 --outlier-channels 2 --dtype BF16 --out /tmp/tiny-outliers

Weights: Linear/embedding weights ~ N(0, 0.02) (BERT's initializer_range), biases ~ N(0, 0.02),
LayerNorm gains ~ 1 + N(0, 0.05), LayerNorm biases ~ N(0, 0.05). --outlier-channels N picks N
hidden channels (the same ones in every LayerNorm, as in trained BERTs) and multiplies their
LayerNorm gain and bias by a factor drawn from U(10, 50). The checkpoint is fully determined by
the configuration, --dtype and --seed.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_VOCAB_DIR = os.path.join(HERE, "..", "tests", "data", "vocabs", "bert-base-uncased")

BASE_CONFIG = {
    "architectures": ["BertModel"],
    "attention_probs_dropout_prob": 0.1,
    "classifier_dropout": None,
    "hidden_act": "gelu",
    "hidden_dropout_prob": 0.1,
    "hidden_size": 768,
    "initializer_range": 0.02,
    "intermediate_size": 3072,
    "layer_norm_eps": 1e-12,
    "max_position_embeddings": 512,
    "model_type": "bert",
    "num_attention_heads": 12,
    "num_hidden_layers": 12,
    "pad_token_id": 0,
    "position_embedding_type": "absolute",
    "torch_dtype": "float32",
    "type_vocab_size": 2,
    "use_cache": True,
    "vocab_size": 30522,
}
TORCH_DTYPE = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}


def tensor_names(num_layers: int, prefix: str = ""):
    """The transformers BertModel state-dict names, in module order."""
    names = [
        "embeddings.word_embeddings.weight",
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.LayerNorm.weight",
        "embeddings.LayerNorm.bias",
    ]
    for i in range(num_layers):
        p = f"encoder.layer.{i}."
        for sub in ("attention.self.query", "attention.self.key", "attention.self.value",
                    "attention.output.dense", "attention.output.LayerNorm",
                    "intermediate.dense", "output.dense", "output.LayerNorm"):
            names += [p + sub + ".weight", p + sub + ".bias"]
    names += ["pooler.dense.weight", "pooler.dense.bias"]
    return [prefix + n for n in names]


def make_weights(cfg: dict, seed: int, outlier_channels: int = 0):
    """Return (ordered dict name -> float32 array, list of outlier channel indices)."""
    rng = np.random.default_rng(seed)
    H, I, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    V, P, T = cfg["vocab_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"]
    std = float(cfg.get("initializer_range", 0.02))
    if H % cfg["num_attention_heads"] != 0:
        raise SystemExit(f"make_checkpoint: hidden_size {H} is not a multiple of "
                         f"num_attention_heads {cfg['num_attention_heads']}")
    if outlier_channels < 0 or outlier_channels > H:
        raise SystemExit(f"make_checkpoint: --outlier-channels {outlier_channels} not in 0..{H}")
    outliers = sorted(rng.choice(H, size=outlier_channels, replace=False).tolist()) \
        if outlier_channels else []
    scale = np.ones(H, dtype=np.float32)
    if outliers:
        scale[outliers] = rng.uniform(10.0, 50.0, size=len(outliers)).astype(np.float32)

    def normal(*shape, s=std):
        return rng.standard_normal(shape, dtype=np.float32) * np.float32(s)

    def layer_norm(prefix):
        w[prefix + ".weight"] = (1.0 + normal(H, s=0.05)) * scale
        w[prefix + ".bias"] = normal(H, s=0.05) * scale

    def linear(prefix, out_f, in_f):
        w[prefix + ".weight"] = normal(out_f, in_f)  # [out, in] like torch.nn.Linear
        w[prefix + ".bias"] = normal(out_f)

    w = {}
    w["embeddings.word_embeddings.weight"] = normal(V, H)
    pad = cfg.get("pad_token_id")
    if pad is not None and 0 <= pad < V:
        w["embeddings.word_embeddings.weight"][pad] = 0.0  # nn.Embedding(padding_idx) init
    w["embeddings.position_embeddings.weight"] = normal(P, H)
    w["embeddings.token_type_embeddings.weight"] = normal(T, H)
    layer_norm("embeddings.LayerNorm")
    for i in range(L):
        p = f"encoder.layer.{i}."
        linear(p + "attention.self.query", H, H)
        linear(p + "attention.self.key", H, H)
        linear(p + "attention.self.value", H, H)
        linear(p + "attention.output.dense", H, H)
        layer_norm(p + "attention.output.LayerNorm")
        linear(p + "intermediate.dense", I, H)
        linear(p + "output.dense", H, I)
        layer_norm(p + "output.LayerNorm")
    linear("pooler.dense", H, H)
    assert list(w) == tensor_names(L)
    return w, outliers


def build_config(args) -> dict:
    cfg = dict(BASE_CONFIG)
    if args.config:
        with open(args.config, encoding="utf-8") as f:
            user = json.load(f)
        cfg.update(user)
        cfg["architectures"] = ["BertModel"]
    for key, val in (("hidden_size", args.hidden), ("num_hidden_layers", args.layers),
                     ("num_attention_heads", args.heads), ("intermediate_size", args.intermediate),
                     ("max_position_embeddings", args.max_positions),
                     ("vocab_size", args.vocab_size), ("hidden_act", args.act),
                     ("type_vocab_size", args.type_vocab_size)):
        if val is not None:
            cfg[key] = val
    if args.hidden is not None and args.intermediate is None and not args.config:
        cfg["intermediate_size"] = 4 * args.hidden
    cfg["torch_dtype"] = TORCH_DTYPE[args.dtype]
    cfg["transformers_version"] = "4.19.0"
    return dict(sorted(cfg.items()))


def copy_vocab(vocab_dir: str, out: str, vocab_size: int) -> None:
    src = os.path.join(vocab_dir, "vocab.txt")
    with open(src, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if vocab_size > len(lines):
        raise SystemExit(f"make_checkpoint: vocab_size {vocab_size} exceeds the {len(lines)} "
                         f"entries of {src}")
    with open(os.path.join(out, "vocab.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines[:vocab_size]) + "\n")
    tc = os.path.join(vocab_dir, "tokenizer_config.json")
    if os.path.exists(tc):
        shutil.copyfile(tc, os.path.join(out, "tokenizer_config.json"))
    else:
        with open(os.path.join(out, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump({"do_lower_case": True, "model_max_length": 512}, f)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--out", required=True, help="output folder (created)")
    ap.add_argument("--config", help="start from this config.json (any BertConfig)")
    ap.add_argument("--hidden", type=int, help="hidden_size")
    ap.add_argument("--layers", type=int, help="num_hidden_layers")
    ap.add_argument("--heads", type=int, help="num_attention_heads")
    ap.add_argument("--intermediate", type=int, help="intermediate_size (default 4*hidden)")
    ap.add_argument("--max-positions", type=int, help="max_position_embeddings")
    ap.add_argument("--type-vocab-size", type=int, help="type_vocab_size")
    ap.add_argument("--vocab-size", type=int,
                    help="vocab_size; vocab.txt is truncated to its first N entries")
    ap.add_argument("--act", help="hidden_act (gelu, gelu_new, relu, ...)")
    ap.add_argument("--dtype", default="F32", choices=["F32", "F16", "BF16"],
                    help="storage dtype of model.safetensors (default F32)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--outlier-channels", type=int, default=0,
                    help="number of hidden channels whose LayerNorm gain/bias is scaled 10-50x")
    ap.add_argument("--vocab-dir", default=DEFAULT_VOCAB_DIR,
                    help="folder with vocab.txt (+ tokenizer_config.json) to copy")
    args = ap.parse_args(argv)

    cfg = build_config(args)
    with open(os.path.join(args.vocab_dir, "vocab.txt"), encoding="utf-8") as f:
        n_vocab_lines = sum(1 for _ in f)
    if args.vocab_size is None and not args.config:
        cfg["vocab_size"] = n_vocab_lines
    weights, outliers = make_weights(cfg, args.seed, args.outlier_channels)

    os.makedirs(args.out, exist_ok=True)
    copy_vocab(args.vocab_dir, args.out, min(cfg["vocab_size"], n_vocab_lines))
    with open(os.path.join(args.out, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")

    dtypes = {}
    if args.dtype == "F16":
        weights = {k: v.astype(np.float16) for k, v in weights.items()}
    elif args.dtype == "BF16":
        weights = {k: safetensors_np.f32_to_bf16_bits(v) for k, v in weights.items()}
        dtypes = {k: "BF16" for k in weights}
    meta = {"format": "pt", "generator": "bertcpp tools/make_checkpoint.py",
            "seed": str(args.seed), "outlier_channels": json.dumps(outliers)}
    path = os.path.join(args.out, "model.safetensors")
    safetensors_np.write(path, weights, dtypes=dtypes, metadata=meta)
    n_params = sum(int(np.prod(v.shape)) for v in weights.values())
    print(f"make_checkpoint: wrote {path} ({n_params / 1e6:.2f} M params, {args.dtype}, "
          f"{os.path.getsize(path) / 2**20:.1f} MiB), hidden {cfg['hidden_size']}, layers "
          f"{cfg['num_hidden_layers']}, heads {cfg['num_attention_heads']}, intermediate "
          f"{cfg['intermediate_size']}, vocab {cfg['vocab_size']}, seed {args.seed}"
          + (f", outlier channels {outliers}" if outliers else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
