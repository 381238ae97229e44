"""Runs the real sentence-transformers on the rotary families' folders of tests/python/st_folders.py
(ROTARY_VARIANTS: the ModernBERT, NomicBERT, GTE (native and new-impl's) and JinaBERT golden checkpoints with Pooling,
Normalize and prompts) and writes
tests/data/sentence_transformers/rotary_expected.json, which tests/python/test_st_rotary_ref.py compares
bertcpp against. Run with the reference venv, outside the tree:
    git clone https://github.com/nomic-ai/contrastors /tmp/contrastors   # or any clone / bare mirror
    PYTHONPATH=<a site-packages with einops> /work/venv/ref/bin/python tools/make_st_rotary_expected.py \
        --contrastors /tmp/contrastors [--commit SHA] --jina <sci-bert-finetune clone> --new-impl <folder>
GTE is transformers' native modeling_gte. NomicBERT is remote code: for the reference run only, a temporary
copy of the folder gets modeling_hf_nomic_bert.py and configuration_hf_nomic_bert.py from contrastors at
--commit (default: the commit tools/make_nomic_goldens.py made the checkpoint with) and an auto_map naming
them, and is loaded with trust_remote_code=True; nothing of it is committed. Same shim as
make_nomic_goldens.py: transformers 5 dropped get_extended_attention_mask, given back with transformers 4's
definition for an encoder's 2-D mask. JinaBERT (--jina, as tools/make_jina_goldens.py) and GTE-v1.5's remote code
(--new-impl, as tools/make_gte_goldens.py --new-impl) cannot be built by transformers 5's meta-device
from_pretrained (their ALiBi / rotary buffers are computed in __init__): for those variants the Transformer module's
model comes from the goldens' own loaders (the class built from the folder's config and given its weights), the rest
(tokenizer, Pooling, Normalize, prompts) is the library's.
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
import sentence_transformers.base.modules.transformer as st_transformer
import torch
import transformers
from sentence_transformers import SentenceTransformer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "python"))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import make_family_goldens as fg  # noqa: E402
import make_gte_goldens  # noqa: E402
import make_jina_goldens  # noqa: E402
import st_folders  # noqa: E402
from golden_json import arr  # noqa: E402

DEFAULT_COMMIT = "613ddfd37309e538cceadb05b1e6423e7b09f603"  # tools/make_nomic_goldens.py's
JINA_COMMIT = "09cc4c7e14d1d75318c5cb3660e0e38ba5542509"  # tools/make_jina_goldens.py's (tiny-jina-bert)
SRC = "src/contrastors/models/huggingface/"
TEXTS = ["Replace me by any text you'd like.", "Hello, world!", "a b c d e f g h i j", "The cat sits on the mat."]


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


class DirectLoad:
    """Stands in for AutoModel in sentence-transformers' Transformer module: the golden generator's own loader."""

    def __init__(self, load):
        self.load = load

    def from_pretrained(self, folder, *a, **k):
        return self.load(folder)


def load_st(folder, loader, trust_remote_code):
    """trust_remote_code only for a config class the folder itself holds (JinaBERT's config is a BertConfig; its
    auto_map names the hub)."""
    if loader is None:
        return SentenceTransformer(folder, device="cpu")
    auto = st_transformer.TRANSFORMER_TASK_TO_AUTO_MODEL["feature-extraction"]
    st_transformer.TRANSFORMER_TASK_TO_AUTO_MODEL["feature-extraction"] = DirectLoad(loader)
    try:
        return SentenceTransformer(folder, device="cpu", trust_remote_code=trust_remote_code)
    finally:
        st_transformer.TRANSFORMER_TASK_TO_AUTO_MODEL["feature-extraction"] = auto


def local_new_impl(folder, src):
    """The folder's config names new-impl's files copied beside it (AutoConfig reads NewConfig from there)."""
    for f in ("modeling.py", "configuration.py"):
        shutil.copy(os.path.join(src, f), os.path.join(folder, f))
    path = os.path.join(folder, "config.json")
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["auto_map"] = {"AutoConfig": "configuration.NewConfig", "AutoModel": "modeling.NewModel"}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)


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
    ap.add_argument("--jina", required=True, help="a clone (or bare mirror) of veya2ztn/sci-bert-finetune")
    ap.add_argument("--jina-commit", default=JINA_COMMIT)
    ap.add_argument("--new-impl", required=True, help="a folder with Alibaba-NLP/new-impl's modeling.py and "
                                                      "configuration.py (tools/make_gte_goldens.py --new-impl)")
    a = ap.parse_args()
    jina, jina_sha = make_jina_goldens.import_reference(a.jina, a.jina_commit)
    new_impl, digests = make_gte_goldens.import_new_impl(a.new_impl)
    loaders = {"jina": lambda d: make_jina_goldens.load(jina, "JinaBertModel", d),
               "gte-new": lambda d: make_gte_goldens.new_load(new_impl, "NewModel", d)}
    torch.set_num_threads(1)
    models = os.path.join(ROOT, "tests", "data", "models")
    out = {"generator": f"sentence-transformers {sentence_transformers.__version__}, transformers "
                        f"{transformers.__version__}, torch {torch.__version__}; NomicBERT: nomic-ai/contrastors "
                        f"{a.commit} {SRC}modeling_hf_nomic_bert.py; JinaBERT: veya2ztn/sci-bert-finetune {jina_sha} "
                        f"models/jinabert/modeling_bert.py; GTE new: Alibaba-NLP/new-impl modeling.py sha256 "
                        f"{digests['modeling.py']} (tools/make_st_rotary_expected.py)",
           "texts": TEXTS, "variants": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for variant in st_folders.ROTARY_VARIANTS:
            folder = st_folders.make(models, os.path.join(tmp, variant), variant)
            remote = variant.startswith("nomic")
            if remote:
                add_nomic_code(folder, a.contrastors, a.commit)
            if variant.startswith("gte-new"):
                local_new_impl(folder, a.new_impl)
            loader = next((f for prefix, f in loaders.items() if variant.startswith(prefix + "-")), None)
            m = SentenceTransformer(folder, device="cpu", trust_remote_code=remote) if loader is None and remote \
                else load_st(folder, loader, trust_remote_code=variant.startswith("gte-new"))
            inner = m[0].auto_model
            if remote:
                type(inner).get_extended_attention_mask = fg.transformers4_extended_attention_mask
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
