"""Makes the GTE golden folders (tiny-gte*) in tests/data/models with transformers' native GTE (modeling_gte).

Run with the reference venv outside the tree (the packages of tools/make_family_goldens.py; torch on CPU):
    /work/venv/ref/bin/python tools/make_gte_goldens.py
Same format and reference settings as tools/make_family_goldens.py (whose helpers it uses): a tiny random-weight
checkpoint written by save_pretrained (safetensors; transformers 5 writes GTE's checkpoint names — qkv_proj,
attn_ln, up_gate_proj, mlp_ln, lm_head.norm — through its conversion mapping), a WordPiece vocab
(BertTokenizerFast, as gte-base/large-en-v1.5 use bert-base-uncased's; pad 0), and expected.safetensors / expected.json, cases single/batch/pair/long,
from the folder reloaded by transformers (eager attention, fp32, one thread).

transformers' GteConfig is model_type "gte" (the alibaba-nlp-community ports). The hub's original checkpoints
(gte-base-en-v1.5, gte-large-en-v1.5, gte-multilingual-base) are model_type "new" with remote code
(Alibaba-NLP/new-impl's modeling.py + configuration.py, NewModel and its heads). With --new-impl DIR (a folder
holding those two files, outside the tree; nothing of them is committed) this script makes the tiny-gte-new*
folders from that code instead:
    /work/venv/ref/bin/python tools/make_gte_goldens.py --new-impl /tmp/gte_new
Each is a random-weight checkpoint in the hub's layout: config.json as NewConfig writes it with model_type "new",
new-impl's auto_map and architectures; model.safetensors with the file's state_dict names (no prefix for NewModel,
"new." for the heads' classes, the MLM decoder weight stored: these random models are not tied); the WordPiece
vocab. Shims for transformers 5 (which the file predates): transformers 4's get_extended_attention_mask, the config
given pad_token_id and _attn_implementation "eager", and the class built from the folder's config and given the
file's weights (transformers 5's meta-device from_pretrained cannot run the rotary caches the file computes in
__init__). The file's eager attention cannot return attention probabilities (its `attention_probs` is only set on
the xformers path), so these goldens hold no attentions; unpad_inputs / use_memory_efficient_attention need
xformers and are left false (they change no number: the same attention per text).
Random weights as the family goldens, with the Q and K rows of qkv_proj (or q_proj, k_proj) 8x for peaked attention.
"""
import argparse
import copy
import hashlib
import importlib
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import numpy as np  # noqa: E402
import safetensors.torch  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

MAX_LEN = 128


def perturb(model, seed, scale=0.05, head_scale=0.4, prefix="gte."):
    g = torch.Generator().manual_seed(seed)
    is_base = model.base_model is model
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ("norm" in name.lower() or name.endswith("_ln.weight")) and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith(("q_proj.weight", "k_proj.weight")):
                p.copy_(8 * scale * torch.randn(p.shape, generator=g))
            elif name.endswith("qkv_proj.weight"):  # [Q | K | V] rows: Q and K 8x
                w = scale * torch.randn(p.shape, generator=g)
                w[: 2 * p.shape[0] // 3] *= 8
                p.copy_(w)
            elif not is_base and not name.startswith(prefix):
                p.copy_(head_scale * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def config(vocab, **kw):
    c = transformers.GteConfig(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                               intermediate_size=48, hidden_act="gelu", max_position_embeddings=MAX_LEN,
                               type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0, bos_token_id=None,
                               eos_token_id=None, rope_parameters={"rope_type": "default", "rope_theta": 160000.0})
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def build(name, c, cls_name, tok, seed, type_ids):
    d = os.path.join(fg.MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(c)
    model.eval()
    perturb(model, seed)
    model.save_pretrained(d, safe_serialization=True)
    tok_cls = tok.save(d)
    ref = fg.load_reference(d, cls_name)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    texts = fg.case_texts()
    encs = fg.encode_cases(hf_tok, texts, MAX_LEN)
    if not type_ids:
        for e in encs.values():
            e.pop("token_type_ids", None)
    outputs = fg.run_cases(ref, encs, type_ids=type_ids)
    meta = {"generator": fg.generator_string(tok_cls, cls_name).replace("make_family_goldens", "make_gte_goldens"),
            "family": "gte", "class": cls_name, "storage": "F32", "seed": seed, "texts": texts, "note": fg.NOTE}
    fg.write_expected(d, outputs, meta)
    print(f"{name}: {cls_name}, vocab {c.vocab_size}, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")


# ---------------------------------------------------------------- model_type "new" (Alibaba-NLP/new-impl)
NEW_HUB = "Alibaba-NLP/new-impl--"
NEW_AUTO_MAP = {"AutoConfig": NEW_HUB + "configuration.NewConfig", "AutoModel": NEW_HUB + "modeling.NewModel",
                **{f"AutoModelFor{t}": f"{NEW_HUB}modeling.NewFor{t}" for t in (
                    "MaskedLM", "MultipleChoice", "QuestionAnswering", "SequenceClassification",
                    "TokenClassification")}}


def import_new_impl(src):
    """new-impl's modeling.py + configuration.py from `src`, imported as a package (modeling.py imports
    .configuration), with transformers 4's get_extended_attention_mask; and the files' sha256."""
    pkg = tempfile.mkdtemp(prefix="gte-new-")
    os.makedirs(os.path.join(pkg, "newimpl"))
    open(os.path.join(pkg, "newimpl", "__init__.py"), "w").close()
    digests = {}
    for f in ("modeling.py", "configuration.py"):
        shutil.copy(os.path.join(src, f), os.path.join(pkg, "newimpl", f))
        with open(os.path.join(src, f), "rb") as fh:
            digests[f] = hashlib.sha256(fh.read()).hexdigest()[:16]
    sys.path.insert(0, pkg)
    ref = importlib.import_module("newimpl.modeling")
    ref.NewPreTrainedModel.get_extended_attention_mask = fg.transformers4_extended_attention_mask
    return ref, digests


def new_config(vocab, **kw):
    """config.json's fields as the hub's GTE-v1.5 configs spell them (rope_theta and rope_scaling at the top:
    transformers 5's to_dict would rewrite rope_scaling as rope_parameters)."""
    c = dict(vocab_size=vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
             hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
             max_position_embeddings=MAX_LEN, type_vocab_size=0, initializer_range=0.02, layer_norm_type="layer_norm",
             layer_norm_eps=1e-12, pad_token_id=0, position_embedding_type="rope", rope_theta=500000.0,
             rope_scaling={"type": "ntk", "factor": 2.0}, classifier_dropout=None, pack_qkv=True, unpad_inputs=False,
             use_memory_efficient_attention=False, logn_attention_scale=False, logn_attention_clip1=False)
    c.update(kw)
    return c


def new_labels(c, id2label):
    return dict(c, id2label={str(k): v for k, v in id2label.items()}, label2id={v: k for k, v in id2label.items()})


def new_instance(ref, cls_name, fields):
    c = ref.NewConfig(**copy.deepcopy(fields))  # transformers 5 writes rope_type/rope_theta into rope_scaling
    c._attn_implementation = "eager"
    return getattr(ref, cls_name)(c)


def new_save(model, fields, cls_name, d):
    sd = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors.torch.save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    cfg = dict(fields, architectures=[cls_name], auto_map=NEW_AUTO_MAP, model_type="new", torch_dtype="float32")
    with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")


def new_load(ref, cls_name, d):
    """The class built from the folder's config.json, given the file's weights (every one, nothing else)."""
    with open(os.path.join(d, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    for k in ("architectures", "auto_map", "model_type", "torch_dtype"):
        cfg.pop(k)
    model = new_instance(ref, cls_name, cfg)
    model.eval()
    file = safetensors.torch.load_file(os.path.join(d, "model.safetensors"))
    model.load_state_dict(file, strict=True)
    return model


def build_new(ref, digests, name, fields, cls_name, tok, seed, type_ids):
    d = os.path.join(fg.MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    model = new_instance(ref, cls_name, fields)
    model.eval()
    perturb(model, seed, prefix="new.")
    new_save(model, fields, cls_name, d)
    tok_cls = tok.save(d)
    m = new_load(ref, cls_name, d)
    if fields["position_embedding_type"] == "rope":  # the scaling the config asks for is the one that ran
        rope = m.base_model.embeddings.rotary_emb
        scaling = fields["rope_scaling"] or {}
        assert (type(rope).__name__, getattr(rope, "scaling_factor", None), getattr(rope, "mixed_b", None)) == (
            "NTKScalingRotaryEmbedding" if scaling else "RotaryEmbedding", scaling.get("factor"),
            scaling.get("mixed_b")), rope
    hf_tok = getattr(transformers, tok_cls).from_pretrained(d)  # AutoTokenizer would ask to run the remote code
    texts = fg.case_texts()
    encs = fg.encode_cases(hf_tok, texts, MAX_LEN)
    for e in encs.values():
        if not type_ids:
            e.pop("token_type_ids", None)
        elif fields["type_vocab_size"] == 1:  # one type (gte-multilingual-base): its XLM-R tokenizer's pairs are all 0
            e["token_type_ids"] = torch.zeros_like(e["input_ids"])
    outputs = fg.run_cases(m, encs, type_ids=type_ids, attentions=False)
    gen = (f"tools/make_gte_goldens.py --new-impl: Alibaba-NLP/new-impl modeling.py sha256 {digests['modeling.py']}, "
           f"configuration.py sha256 {digests['configuration.py']}; {fg.versions()} ({tok_cls}, {cls_name}, "
           f"attn eager, fp32, 1 thread)")
    meta = {"generator": gen, "family": "gte_new", "class": cls_name, "storage": "F32", "seed": seed,
            "texts": texts, "note": fg.NOTE.replace("attentions is [layers, batch, heads, seq, seq]; ",
                                                    "no attentions (the reference cannot return them); ")}
    fg.write_expected(d, outputs, meta)
    print(f"{name}: {cls_name}, {sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")


def make_new(src, tok):
    ref, digests = import_new_impl(src)
    vocab = len(tok.vocab)
    labels3 = lambda c: new_labels(c, fg.LABELS3)  # noqa: E731
    # gte-base-en-v1.5's switches: rope θ 500000 with fixed NTK (factor 2), no token types, gelu.
    build_new(ref, digests, "tiny-gte-new", new_config(vocab), "NewModel", tok, 91, type_ids=False)
    # mixed NTK (mixed_b), 2 token types, silu, θ 160000 (gte-large-en-v1.5's), eps 1e-5.
    build_new(ref, digests, "tiny-gte-new-mixed",
              new_config(vocab, type_vocab_size=2, hidden_act="silu", rope_theta=160000.0, layer_norm_eps=1e-5,
                         rope_scaling={"type": "ntk", "factor": 3.0, "mixed_b": 0.75}),
              "NewModel", tok, 92, type_ids=True)
    # BERT positions (a position table), q_proj/k_proj/v_proj (pack_qkv false), 1 token type, logn attention
    # scale without clip (queries scaled by log(length) / log(max_position_embeddings)).
    build_new(ref, digests, "tiny-gte-new-absolute",
              new_config(vocab, position_embedding_type="absolute", pack_qkv=False, type_vocab_size=1,
                         rope_scaling=None, logn_attention_scale=True),
              "NewModel", tok, 93, type_ids=True)
    # gte-multilingual-base's rope without scaling; lm_head's activation is hidden_act (gelu_new here).
    build_new(ref, digests, "tiny-gte-new-mlm",
              new_config(vocab, hidden_act="gelu_new", rope_theta=160000.0, rope_scaling=None, type_vocab_size=1),
              "NewForMaskedLM", tok, 94, type_ids=True)
    build_new(ref, digests, "tiny-gte-new-classifier", labels3(new_config(vocab, type_vocab_size=1)),
              "NewForSequenceClassification", tok, 95, type_ids=True)
    # RMSNorm as attn_ln / mlp_ln (layer_norm_type rms_norm), eps 1e-6.
    build_new(ref, digests, "tiny-gte-new-token",
              labels3(new_config(vocab, layer_norm_type="rms_norm", layer_norm_eps=1e-6)),
              "NewForTokenClassification", tok, 96, type_ids=False)
    build_new(ref, digests, "tiny-gte-new-qa", new_config(vocab, num_labels=2), "NewForQuestionAnswering", tok,
              97, type_ids=False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--new-impl", metavar="DIR",
                    help="a folder with Alibaba-NLP/new-impl's modeling.py and configuration.py: make the "
                         "model_type \"new\" folders (tiny-gte-new*) instead of the native ones")
    a = ap.parse_args()
    print(fg.versions())
    tok = fg.WordPiece(MAX_LEN, "BertTokenizerFast")
    if a.new_impl:
        make_new(a.new_impl, tok)
        return
    vocab = len(tok.vocab)
    build("tiny-gte", config(vocab), "GteModel", tok, 81, type_ids=True)
    build("tiny-gte-notypes", config(vocab, type_vocab_size=0, hidden_act="silu",
                                     rope_parameters={"rope_type": "default", "rope_theta": 500000.0}),
          "GteModel", tok, 82, type_ids=False)
    build("tiny-gte-mlm", config(vocab), "GteForMaskedLM", tok, 83, type_ids=True)
    build("tiny-gte-classifier", fg.labels(config(vocab), fg.LABELS3), "GteForSequenceClassification", tok, 84,
          type_ids=True)


if __name__ == "__main__":
    main()
