"""Runs the real sentence-transformers on the rotary families' folders of tests/python/st_folders.py
(ROTARY_VARIANTS: the NomicBERT and GTE golden checkpoints with Pooling, Normalize and prompts) and writes
tests/data/sentence_transformers/rotary_expected.json, which tests/python/test_st_rotary_ref.py compares
bertcpp against. Run with the reference venv, outside the tree:
    git clone https://github.com/nomic-ai/contrastors /tmp/contrastors   # or any clone / bare mirror
    PYTHONPATH=<a site-packages with einops> /work/venv/ref/bin/python tools/make_st_rotary_expected.py \
        --contrastors /tmp/contrastors [--commit SHA]
GTE is transformers' native modeling_gte. NomicBERT is remote code: for the reference run only, a temporary
copy of the folder gets modeling_hf_nomic_bert.py and configuration_hf_nomic_bert.py from contrastors at
--commit (default: the commit tools/make_nomic_goldens.py made the checkpoint with) and an auto_map naming
them, and is loaded with trust_remote_code=True; nothing of it is committed. Same shim as
make_nomic_goldens.py: transformers 5 dropped get_extended_attention_mask, given back with transformers 4's
definition for an encoder's 2-D mask.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import sentence_transformers
import torch
import transformers
from sentence_transformers import SentenceTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
import st_folders  # noqa: E402

DEFAULT_COMMIT = "613ddfd37309e538cceadb05b1e6423e7b09f603"  # tools/make_nomic_goldens.py's
SRC = "src/contrastors/models/huggingface/"
TEXTS = ["Replace me by any text you'd like.", "Hello, world!", "a b c d e f g h i j", "The cat sits on the mat."]


def arr(x):
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, list):
        return [arr(v) for v in x]
    x = np.asarray(x)
    return {"dtype": str(x.dtype), "shape": list(x.shape), "data": x.reshape(-1).tolist()}


def add_nomic_code(folder, repo, commit):
    git_dir = repo if repo.endswith(".git") or os.path.isfile(os.path.join(repo, "HEAD")) else os.path.join(repo, ".git")
    for f in ("modeling_hf_nomic_bert.py", "configuration_hf_nomic_bert.py"):
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{commit}:{SRC}{f}"], check=True,
                              capture_output=True).stdout
        with open(os.path.join(folder, f), "wb") as out:
            out.write(text)
    path = os.path.join(folder, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["auto_map"] = {"AutoConfig": "configuration_hf_nomic_bert.NomicBertConfig",
                       "AutoModel": "modeling_hf_nomic_bert.NomicBertModel"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


def get_extended_attention_mask(self, attention_mask, input_shape):  # transformers 4, 2-D mask, encoder
    e = attention_mask[:, None, None, :].to(torch.float32)
    return (1.0 - e) * torch.finfo(torch.float32).min


def cases_of(m, variant):
    _, _, _, st_config = st_folders.ROTARY_VARIANTS[variant]
    c = {"encode": arr(m.encode(TEXTS)), "encode_single": arr(m.encode(TEXTS[0])),
         "prompt": arr(m.encode(TEXTS, prompt="Represent this: ")),
         "truncate_dim_16": arr(m.encode(TEXTS, truncate_dim=16)),
         "truncate_dim_16_normalize": arr(m.encode(TEXTS, truncate_dim=16, normalize_embeddings=True)),
         "token_embeddings": arr(m.encode(TEXTS, output_value="token_embeddings"))}
    for name in st_config["prompts"]:
        c[f"prompt_name_{name}"] = arr(m.encode(TEXTS, prompt_name=name))
    return c


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--contrastors", required=True, help="a clone (or bare mirror) of nomic-ai/contrastors")
    ap.add_argument("--commit", default=DEFAULT_COMMIT)
    a = ap.parse_args()
    torch.set_num_threads(1)
    models = os.path.join(ROOT, "tests", "data", "models")
    out = {"generator": f"sentence-transformers {sentence_transformers.__version__}, transformers "
                        f"{transformers.__version__}, torch {torch.__version__}; NomicBERT: nomic-ai/contrastors "
                        f"{a.commit} {SRC}modeling_hf_nomic_bert.py (tools/make_st_rotary_expected.py)",
           "texts": TEXTS, "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in st_folders.ROTARY_VARIANTS:
            folder = st_folders.make(models, os.path.join(tmp, variant), variant)
            remote = variant.startswith("nomic")
            if remote:
                add_nomic_code(folder, a.contrastors, a.commit)
            m = SentenceTransformer(folder, device="cpu", trust_remote_code=remote)
            inner = m[0].auto_model
            if remote:
                type(inner).get_extended_attention_mask = get_extended_attention_mask
            print(variant, type(inner).__module__, type(inner).__name__, file=sys.stderr)
            out["variants"][variant] = {"model_class": type(inner).__name__, "prompts": m.prompts,
                                        "default_prompt_name": m.default_prompt_name, "cases": cases_of(m, variant)}
            shutil.rmtree(folder)
    dest = os.path.join(ROOT, "tests", "data", "sentence_transformers", "rotary_expected.json")
    with open(dest, "w", encoding="utf-8") as f:
        json.dump(out, f)
        f.write("\n")
    print(dest, os.path.getsize(dest), "bytes")


if __name__ == "__main__":
    main()
