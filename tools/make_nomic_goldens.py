"""Makes the NomicBERT golden folders (tiny-nomic-bert*) in tests/data/models with Nomic's own modeling code.

NomicBERT (nomic-embed-text-v1/v1.5) is a remote-code model: its hub config.json names
nomic-ai/nomic-bert-2048's modeling_hf_nomic_bert.py in auto_map. That file lives in the public repository
nomic-ai/contrastors (src/contrastors/models/huggingface/); this script runs it from a local clone, outside the
tree (nothing of it is committed):
    git clone https://github.com/nomic-ai/contrastors /tmp/contrastors   # or any clone / bare mirror
    /work/venv/ref/bin/python tools/make_nomic_goldens.py --contrastors /tmp/contrastors [--commit SHA]
The goldens in the tree were made at contrastors commit 613ddfd37309e538cceadb05b1e6423e7b09f603 (the one
expected.json records). Packages: those of tools/make_family_goldens.py plus einops (the modeling file imports it).

Each folder is a tiny random-weight checkpoint in the hub's layout: config.json as NomicBertConfig (a GPT2Config:
n_embd, n_head, n_layer, n_inner, n_positions, rotary_emb_*, ...) writes it, with the hub's model_type
"nomic_bert", auto_map and architectures; model.safetensors with the modeling file's state_dict names (no prefix
for NomicBertModel, "bert." for the heads' classes; a tied MLM decoder weight left out, as save_pretrained does);
a WordPiece vocab (BertTokenizerFast, as nomic-embed uses bert-base-uncased's). Expected outputs come from the
folder reloaded by the classes' own from_pretrained (what AutoModel with trust_remote_code calls), fp32, one
thread, every weight checked to have loaded (their loader uses strict=False).

One shim: transformers 5 dropped ModuleUtilsMixin.get_extended_attention_mask, which the modeling file calls; it
is given back with transformers 4's definition for a 2-D mask of an encoder, (1 - mask[:, None, None, :]) *
finfo(float32).min.

Folders: tiny-nomic-bert (nomic-embed-text-v1.5's switches: SwiGLU, no biases, full non-interleaved rotary with
base 1000, vocab padded to a multiple of 64, n_inner rounded up to 256 by the gated MLP), tiny-nomic-bert-ntk
(dynamic NTK rotary: rotary_scaling_factor 2 above max_trained_positions 16, interleaved rotary on half of each
head, GeGLU, every bias), tiny-nomic-bert-mlm (NomicBertForPreTraining) and tiny-nomic-bert-classifier
(NomicBertForSequenceClassification: pooler + classifier). The NTK base depends on the padded batch length and
the reference caches its rotary tables across calls (a shorter batch after a longer one reuses the longer one's
tables), so every case of every folder runs on a freshly loaded model.
"""
import argparse
import importlib
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import remote_goldens as rg  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402

DEFAULT_COMMIT = "613ddfd37309e538cceadb05b1e6423e7b09f603"
SRC = "src/contrastors/models/huggingface/"
HUB = "nomic-ai/nomic-bert-2048--"
MAX_LEN = 128
AUTO_MAP = {"AutoConfig": HUB + "configuration_hf_nomic_bert.NomicBertConfig",
            "AutoModel": HUB + "modeling_hf_nomic_bert.NomicBertModel",
            "AutoModelForMaskedLM": HUB + "modeling_hf_nomic_bert.NomicBertForPreTraining",
            "AutoModelForSequenceClassification": HUB + "modeling_hf_nomic_bert.NomicBertForSequenceClassification"}


def import_reference(repo, commit):
    """modeling_hf_nomic_bert + its configuration at `commit` of a contrastors clone, imported as a package."""
    ref, _ = rg.import_reference(repo, commit, SRC, ("modeling_hf_nomic_bert.py", "configuration_hf_nomic_bert.py"),
                                 "nomicref")
    rg.give_back_transformers4_masks(ref.NomicBertPreTrainedModel)
    return ref


def config(ref, tok, **kw):
    args = dict(vocab_size=len(tok.vocab), n_embd=32, n_head=4, n_layer=2, n_inner=80, n_positions=MAX_LEN,
                activation_function="swiglu", rotary_emb_fraction=1.0, rotary_emb_base=1000,
                rotary_emb_interleaved=False, qkv_proj_bias=False, mlp_fc1_bias=False, mlp_fc2_bias=False,
                layer_norm_epsilon=1e-12, type_vocab_size=2, pad_vocab_size_multiple=64, prenorm=False,
                causal=False, use_flash_attn=True, fused_bias_fc=True, fused_dropout_add_ln=True,
                max_trained_positions=2048, pad_token_id=0, bos_token_id=None, eos_token_id=None,
                embd_pdrop=0.0, resid_pdrop=0.0, attn_pdrop=0.0)
    args.update(kw)
    return ref.NomicBertConfig(**args)


def load(ref, cls_name, d):
    model = getattr(ref, cls_name).from_pretrained(d)
    model.eval()
    return rg.check_loaded(d, model, ("cls.predictions.decoder.weight",))


def build(ref, commit, name, c, cls_name, tok, seed):
    d = rg.new_folder(name)
    torch.manual_seed(seed)
    model = getattr(ref, cls_name)(c, add_pooling_layer=False) if cls_name == "NomicBertModel" else \
        getattr(ref, cls_name)(c)
    model.eval()
    fg.perturb(model, seed, norms=("norm", "emb_ln"), heads=rg.HEADS, packed_qk="Wqkv.weight")
    rg.save(model, cls_name, d, AUTO_MAP, "nomic_bert")
    tok_cls = tok.save(d)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    texts = fg.case_texts()
    # fresh per case: the reference keeps rotary tables between calls
    out = rg.run_cases(lambda: load(ref, cls_name, d), ref.NomicBertModel, texts, hf_tok, MAX_LEN,
                       fresh_per_case=True, bool_mask_for_base=True)
    gen = (f"tools/make_nomic_goldens.py: nomic-ai/contrastors {commit} {SRC}modeling_hf_nomic_bert.py; "
           f"{fg.versions()}, einops {importlib.import_module('einops').__version__} ({tok_cls}, {cls_name}, "
           "sdpa, fp32, 1 thread)")
    rg.write(d, out, gen, "nomic_bert", cls_name, seed, texts, rg.MODEL_NOTE + "; every case ran on a freshly loaded model")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--contrastors", required=True, help="a clone (or bare mirror) of nomic-ai/contrastors")
    ap.add_argument("--commit", default=DEFAULT_COMMIT)
    a = ap.parse_args()
    ref = import_reference(a.contrastors, a.commit)
    print(fg.versions())
    tok = fg.WordPiece(MAX_LEN, "BertTokenizerFast")
    build(ref, a.commit, "tiny-nomic-bert", config(ref, tok), "NomicBertModel", tok, 71)
    build(ref, a.commit, "tiny-nomic-bert-ntk",
          config(ref, tok, activation_function="geglu", rotary_scaling_factor=2.0, max_trained_positions=16,
                 rotary_emb_interleaved=True, rotary_emb_fraction=0.5, qkv_proj_bias=True, mlp_fc1_bias=True,
                 mlp_fc2_bias=True, layer_norm_epsilon=1e-5, n_inner=256, pad_vocab_size_multiple=1),
          "NomicBertModel", tok, 72)
    build(ref, a.commit, "tiny-nomic-bert-mlm", config(ref, tok), "NomicBertForPreTraining", tok, 73)
    build(ref, a.commit, "tiny-nomic-bert-classifier", fg.labels(config(ref, tok), fg.LABELS3),
          "NomicBertForSequenceClassification", tok, 74)


if __name__ == "__main__":
    main()
