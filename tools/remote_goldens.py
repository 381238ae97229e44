"""What the remote-code golden generators (make_nomic_goldens.py, make_jina_goldens.py) share: importing a
modeling file from a git clone outside the tree, transformers 4's mask helpers given back, saving a checkpoint in
the hub's layout, checking every weight loaded, and running the golden cases on the reference classes.
"""
import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import numpy as np
import safetensors.torch
import torch

MODEL_NOTE = ("tensors in expected.safetensors are named <case>.<output>; the reference returns no hidden_states "
              "or attentions; for the heads' classes last_hidden_state (and pooler_output) is their .bert's output "
              "on the same inputs; MLM logits [batch, seq, vocab] only for single; compare positions where "
              "attention_mask is 1")
HEADS = ("cls.", "classifier.", "bert.pooler.")  # the weights fg.perturb scales as a head's
SKIP_CONFIG_KEYS = ("transformers_version", "_name_or_path", "dtype", "torch_dtype", "output_attentions",
                    "output_hidden_states", "return_dict")


def import_reference(repo, commit, src, files, package):
    """`files` of folder `src` at `commit` of a clone or bare mirror, copied to a temporary package outside the
    tree; returns (the first file's module, the commit's full sha)."""
    git_dir = repo if repo.endswith(".git") or os.path.isfile(os.path.join(repo, "HEAD")) else os.path.join(repo, ".git")
    sha = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", commit], check=True, capture_output=True,
                         text=True).stdout.strip()
    root = tempfile.mkdtemp(prefix=package + "-")
    os.makedirs(os.path.join(root, package))
    open(os.path.join(root, package, "__init__.py"), "w").close()
    for f in files:
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{sha}:{src}{f}"], check=True,
                              capture_output=True).stdout
        with open(os.path.join(root, package, f), "wb") as out:
            out.write(text)
    sys.path.insert(0, root)
    return importlib.import_module(f"{package}.{os.path.splitext(files[0])[0]}"), sha


def give_back_transformers4_masks(cls, head_mask=False):
    """transformers 5 dropped ModuleUtilsMixin.get_extended_attention_mask (and get_head_mask): transformers 4's
    definitions for an encoder's 2-D mask and no head mask."""
    def get_head_mask(self, mask, num_hidden_layers, *a, **k):
        assert mask is None
        return [None] * num_hidden_layers

    cls.get_extended_attention_mask = fg.transformers4_extended_attention_mask
    if head_mask:
        cls.get_head_mask = get_head_mask


def save(model, cls_name, d, auto_map, model_type, also_drop=()):
    """model.safetensors without the MLM decoder weight tied to the word embeddings (as save_pretrained leaves it
    out) and `also_drop`; config.json as the config writes it, with the hub's architectures/auto_map/model_type."""
    sd = model.state_dict()
    tied = "cls.predictions.decoder.weight"
    if tied in sd and sd[tied].data_ptr() == sd["bert.embeddings.word_embeddings.weight"].data_ptr():
        del sd[tied]
    for k in also_drop:
        sd.pop(k, None)
    safetensors.torch.save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"),
                                metadata={"format": "pt"})
    cfg = model.config.to_dict()
    for k in SKIP_CONFIG_KEYS:
        cfg.pop(k, None)
    cfg.update({"architectures": [cls_name], "auto_map": auto_map, "model_type": model_type, "torch_dtype": "float32"})
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def check_loaded(d, model, may_be_missing):
    """Every weight of `model` came from the folder's file, bit for bit (the classes' loaders use strict=False)."""
    file = safetensors.torch.load_file(os.path.join(d, "model.safetensors"))
    sd = model.state_dict()
    for k in sd:
        if k not in file and k not in may_be_missing:
            raise SystemExit(f"{d}: {k} is not in the file")
    for k, v in file.items():
        if k not in sd or not torch.equal(sd[k], v):
            raise SystemExit(f"{d}: {k} did not load")
    return model


def new_folder(name):
    d = os.path.join(fg.MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    return d


def run_cases(load, base_cls, texts, hf_tok, max_len, fresh_per_case=False, bool_mask_for_base=False):
    """The golden cases through the reference: last_hidden_state for the base class; for a head's class its
    logits plus its .bert's last_hidden_state/pooler_output on the same inputs. `load()` gives the model; with
    fresh_per_case every case runs on a newly loaded one (references that cache tables between calls)."""
    out = {}
    m = None if fresh_per_case else load()
    with torch.no_grad():
        for case, enc in fg.encode_cases(hf_tok, texts, max_len).items():
            if fresh_per_case:
                m = load()
            for k in ("input_ids", "attention_mask", "token_type_ids"):
                out[f"{case}.{k}"] = enc[k].numpy().astype(np.int64)
            kw = dict(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                      token_type_ids=enc["token_type_ids"])
            res = m(**kw)
            if isinstance(m, base_cls):
                out[f"{case}.last_hidden_state"] = res.last_hidden_state.numpy()
                continue
            if bool_mask_for_base:
                kw["attention_mask"] = kw["attention_mask"].bool()
            base = m.bert(**kw)
            out[f"{case}.last_hidden_state"] = base.last_hidden_state.numpy()
            if base.pooler_output is not None:
                out[f"{case}.pooler_output"] = base.pooler_output.numpy()
            if res.logits.dim() == 2 or case == "single":
                out[f"{case}.logits"] = res.logits.numpy()
    return out


def write(d, out, generator, family, cls_name, seed, texts, note=MODEL_NOTE):
    fg.write_expected(d, out, {"generator": generator, "family": family, "class": cls_name, "storage": "F32",
                               "seed": seed, "texts": texts, "note": note})
    print(f"{os.path.basename(d)}: {cls_name}, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")


