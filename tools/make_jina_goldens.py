"""Makes the JinaBERT v2 golden folders (tiny-jina-bert*) in tests/data/models with Jina's own modeling code.

JinaBERT v2 (jina-embeddings-v2-*) is a remote-code model: its hub config.json keeps model_type "bert" and names
jinaai/jina-bert-implementation's modeling_bert.py in auto_map; transformers has no native class. A copy of that
file and its configuration_bert.py is public in the GitHub repository veya2ztn/sci-bert-finetune
(models/jinabert/); this script runs it from a local clone or bare mirror, outside the tree (nothing of it is
committed):
    /work/venv/ref/bin/python tools/make_jina_goldens.py --repo /path/to/sci-bert-finetune [--commit SHA]
Packages: those of tools/make_family_goldens.py.

Shims for transformers 5: the modules it imports but 5 removed (transformers.onnx; pytorch_utils'
find_pruneable_heads_and_indices, used only by prune_heads) are stubbed, and get_extended_attention_mask /
get_head_mask are given back with transformers 4's definitions for a 2-D encoder mask and no head mask.

Each folder is a tiny random-weight checkpoint in the hub's layout: config.json as JinaBertConfig writes it with
model_type "bert", position_embedding_type "alibi", feed_forward_type, auto_map and architectures; model.safetensors
with the file's state_dict names ("bert." prefix for the heads' classes, the tied MLM decoder weight left out);
a WordPiece vocab. Expected outputs come from the folder reloaded by the class's from_pretrained, fp32, one thread.
Folders: tiny-jina-bert (GeGLU, 4 heads: power-of-two slopes), tiny-jina-bert-reglu (ReGLU with hidden_act relu,
6 heads: the non-power-of-two slope rule, eps 1e-5), tiny-jina-bert-classifier (JinaBertForSequenceClassification:
pooler + classifier) and tiny-jina-bert-mlm (JinaBertForMaskedLM).
"""
import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import numpy as np  # noqa: E402
import safetensors.torch  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
import transformers.pytorch_utils  # noqa: E402

DEFAULT_COMMIT = "HEAD"
SRC = "models/jinabert/"
HUB = "jinaai/jina-bert-implementation--"
MAX_LEN = 128
AUTO_MAP = {"AutoConfig": HUB + "configuration_bert.JinaBertConfig",
            "AutoModel": HUB + "modeling_bert.JinaBertModel",
            "AutoModelForMaskedLM": HUB + "modeling_bert.JinaBertForMaskedLM",
            "AutoModelForSequenceClassification": HUB + "modeling_bert.JinaBertForSequenceClassification"}


def import_reference(repo, commit):
    git_dir = repo if os.path.isfile(os.path.join(repo, "HEAD")) else os.path.join(repo, ".git")
    sha = subprocess.run(["git", "--git-dir", git_dir, "rev-parse", commit], check=True, capture_output=True,
                         text=True).stdout.strip()
    pkg = tempfile.mkdtemp(prefix="jinaref-")
    os.makedirs(os.path.join(pkg, "jinaref"))
    open(os.path.join(pkg, "jinaref", "__init__.py"), "w").close()
    for f in ("modeling_bert.py", "configuration_bert.py"):
        text = subprocess.run(["git", "--git-dir", git_dir, "show", f"{sha}:{SRC}{f}"], check=True,
                              capture_output=True).stdout
        with open(os.path.join(pkg, "jinaref", f), "wb") as out:
            out.write(text)
    onnx = types.ModuleType("transformers.onnx")
    onnx.OnnxConfig = object
    sys.modules["transformers.onnx"] = onnx
    if not hasattr(transformers.pytorch_utils, "find_pruneable_heads_and_indices"):
        transformers.pytorch_utils.find_pruneable_heads_and_indices = None  # prune_heads only
    sys.path.insert(0, pkg)
    ref = importlib.import_module("jinaref.modeling_bert")

    def get_head_mask(self, head_mask, num_hidden_layers, *a, **k):
        assert head_mask is None
        return [None] * num_hidden_layers

    ref.JinaBertPreTrainedModel.get_extended_attention_mask = fg.transformers4_extended_attention_mask
    ref.JinaBertPreTrainedModel.get_head_mask = get_head_mask
    return ref, sha


def config(ref, tok, **kw):
    args = dict(vocab_size=len(tok.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=37, hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                max_position_embeddings=MAX_LEN, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0,
                position_embedding_type="alibi", feed_forward_type="geglu", attn_implementation="torch",
                is_decoder=False, add_cross_attention=False, chunk_size_feed_forward=0)  # transformers 4 defaults
    args.update(kw)
    return ref.JinaBertConfig(**args)


def perturb(model, seed, scale=0.05, head_scale=0.4):
    """As make_family_goldens.perturb: peaked attention (query and key 8x), LayerNorm gains 1+N(0,0.1),
    biases N(0,0.02), head weights N(0,0.4²)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ("LayerNorm" in name or "layernorm" in name) and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith(("query.weight", "key.weight")):
                p.copy_(8 * scale * torch.randn(p.shape, generator=g))
            elif name.startswith(("cls.", "classifier.", "bert.pooler.")):
                p.copy_(head_scale * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def save(model, cls_name, d):
    sd = model.state_dict()
    tied = "cls.predictions.decoder.weight"
    if tied in sd and sd[tied].data_ptr() == sd["bert.embeddings.word_embeddings.weight"].data_ptr():
        del sd[tied]
    sd.pop("cls.predictions.decoder.bias", None)  # the same tensor as cls.predictions.bias
    safetensors.torch.save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"),
                                metadata={"format": "pt"})
    cfg = model.config.to_dict()
    for k in ("transformers_version", "_name_or_path", "dtype", "torch_dtype", "output_attentions",
              "output_hidden_states", "return_dict"):
        cfg.pop(k, None)
    cfg.update({"architectures": [cls_name], "auto_map": AUTO_MAP, "model_type": "bert", "torch_dtype": "float32"})
    import json
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def load(ref, cls_name, d):
    """The class built from the folder's config and given the file's weights (transformers 5's from_pretrained
    builds on the meta device, where the file's alibi buffer, computed in __init__, cannot be made)."""
    c = ref.JinaBertConfig.from_pretrained(d)
    model = getattr(ref, cls_name)(c, add_pooling_layer=False) if cls_name == "JinaBertModel" else \
        getattr(ref, cls_name)(c)
    model.eval()
    file = safetensors.torch.load_file(os.path.join(d, "model.safetensors"))
    model.load_state_dict(file, strict=False)
    model.tie_weights()
    sd = model.state_dict()
    for k in sd:
        if k not in file and k not in ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias"):
            raise SystemExit(f"{d}: {k} is not in the file")
    for k, v in file.items():
        if k not in sd or not torch.equal(sd[k], v):
            raise SystemExit(f"{d}: {k} did not load")
    return model


def build(ref, sha, name, c, cls_name, tok, seed):
    d = os.path.join(fg.MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    model = getattr(ref, cls_name)(c, add_pooling_layer=False) if cls_name == "JinaBertModel" else \
        getattr(ref, cls_name)(c)
    model.eval()
    perturb(model, seed)
    save(model, cls_name, d)
    tok_cls = tok.save(d)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    m = load(ref, cls_name, d)
    texts = fg.case_texts()
    out = {}
    with torch.no_grad():
        for case, enc in fg.encode_cases(hf_tok, texts, MAX_LEN).items():
            for k in ("input_ids", "attention_mask", "token_type_ids"):
                out[f"{case}.{k}"] = enc[k].numpy().astype(np.int64)
            kw = dict(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                      token_type_ids=enc["token_type_ids"])
            res = m(**kw)
            if cls_name == "JinaBertModel":
                out[f"{case}.last_hidden_state"] = res.last_hidden_state.numpy()
            else:
                base = m.bert(**kw)
                out[f"{case}.last_hidden_state"] = base.last_hidden_state.numpy()
                if base.pooler_output is not None:
                    out[f"{case}.pooler_output"] = base.pooler_output.numpy()
                if res.logits.dim() == 2 or case == "single":
                    out[f"{case}.logits"] = res.logits.numpy()
    gen = (f"tools/make_jina_goldens.py: veya2ztn/sci-bert-finetune {sha} {SRC}modeling_bert.py "
           f"(jinaai/jina-bert-implementation); {fg.versions()} ({tok_cls}, {cls_name}, sdpa, fp32, 1 thread)")
    meta = {"generator": gen, "family": "jina_bert", "class": cls_name, "storage": "F32", "seed": seed,
            "texts": texts,
            "note": "tensors in expected.safetensors are named <case>.<output>; the reference returns no hidden_states "
                    "or attentions; for the heads' classes last_hidden_state (and pooler_output) is their .bert's "
                    "output on the same inputs; MLM logits [batch, seq, vocab] only for single; compare positions "
                    "where attention_mask is 1"}
    fg.write_expected(d, out, meta)
    print(f"{name}: {cls_name}, vocab {c.vocab_size}, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repo", required=True, help="a clone (or bare mirror) of veya2ztn/sci-bert-finetune")
    ap.add_argument("--commit", default=DEFAULT_COMMIT)
    a = ap.parse_args()
    ref, sha = import_reference(a.repo, a.commit)
    print(fg.versions())
    tok = fg.WordPiece(MAX_LEN, "BertTokenizerFast")
    build(ref, sha, "tiny-jina-bert", config(ref, tok), "JinaBertModel", tok, 81)
    build(ref, sha, "tiny-jina-bert-reglu",
          config(ref, tok, feed_forward_type="reglu", hidden_act="relu", num_attention_heads=6, hidden_size=36,
                 layer_norm_eps=1e-5), "JinaBertModel", tok, 82)
    build(ref, sha, "tiny-jina-bert-classifier", fg.labels(config(ref, tok), fg.LABELS3),
          "JinaBertForSequenceClassification", tok, 83)
    build(ref, sha, "tiny-jina-bert-mlm", config(ref, tok), "JinaBertForMaskedLM", tok, 84)


if __name__ == "__main__":
    main()
