"""Makes the GTE golden folders (tiny-gte*) in tests/data/models with transformers' native GTE (modeling_gte).

Run with the reference venv outside the tree (the packages of tools/make_family_goldens.py; torch on CPU):
    /work/venv/ref/bin/python tools/make_gte_goldens.py
Same format and reference settings as tools/make_family_goldens.py (whose helpers it uses): a tiny random-weight
checkpoint written by save_pretrained (safetensors; transformers 5 writes GTE's checkpoint names — qkv_proj,
attn_ln, up_gate_proj, mlp_ln, lm_head.norm — through its conversion mapping), a WordPiece vocab
(BertTokenizerFast, as gte-base/large-en-v1.5 use bert-base-uncased's; pad 0), and expected.safetensors / expected.json, cases single/batch/pair/long,
from the folder reloaded by transformers (eager attention, fp32, one thread).

transformers' GteConfig is model_type "gte" (the alibaba-nlp-community ports); the hub's original GTE-v1.5
checkpoints are model_type "new" with remote code (Alibaba-NLP/new-impl), which is not run here.
Random weights as the family goldens, with the Q and K rows of qkv_proj 8x for peaked attention.
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import torch  # noqa: E402
import transformers  # noqa: E402

MAX_LEN = 128


def perturb(model, seed, scale=0.05, head_scale=0.4):
    g = torch.Generator().manual_seed(seed)
    is_base = model.base_model is model
    with torch.no_grad():
        for name, p in model.named_parameters():
            if ("norm" in name.lower()) and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith(("q_proj.weight", "k_proj.weight")):
                p.copy_(8 * scale * torch.randn(p.shape, generator=g))
            elif not is_base and not name.startswith("gte."):
                p.copy_(head_scale * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
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


def main():
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    print(fg.versions())
    tok = fg.WordPiece(MAX_LEN, "BertTokenizerFast")
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
