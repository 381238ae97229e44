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
import os
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import remote_goldens as rg  # noqa: E402
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
TIED = ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")


def import_reference(repo, commit):
    onnx = types.ModuleType("transformers.onnx")
    onnx.OnnxConfig = object
    sys.modules["transformers.onnx"] = onnx
    if not hasattr(transformers.pytorch_utils, "find_pruneable_heads_and_indices"):
        transformers.pytorch_utils.find_pruneable_heads_and_indices = None  # prune_heads only
    ref, sha = rg.import_reference(repo, commit, SRC, ("modeling_bert.py", "configuration_bert.py"), "jinaref")
    rg.give_back_transformers4_masks(ref.JinaBertPreTrainedModel, head_mask=True)
    return ref, sha


def config(ref, tok, **kw):
    args = dict(vocab_size=len(tok.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=37, hidden_act="gelu", hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                max_position_embeddings=MAX_LEN, type_vocab_size=2, layer_norm_eps=1e-12, pad_token_id=0,
                position_embedding_type="alibi", feed_forward_type="geglu", attn_implementation="torch",
                is_decoder=False, add_cross_attention=False, chunk_size_feed_forward=0)  # transformers 4 defaults
    args.update(kw)
    return ref.JinaBertConfig(**args)


def load(ref, cls_name, d):
    """The class built from the folder's config and given the file's weights (transformers 5's from_pretrained
    builds on the meta device, where the file's alibi buffer, computed in __init__, cannot be made)."""
    c = ref.JinaBertConfig.from_pretrained(d)
    model = getattr(ref, cls_name)(c, add_pooling_layer=False) if cls_name == "JinaBertModel" else \
        getattr(ref, cls_name)(c)
    model.eval()
    model.load_state_dict(safetensors.torch.load_file(os.path.join(d, "model.safetensors")), strict=False)
    model.tie_weights()
    return rg.check_loaded(d, model, TIED)


def build(ref, sha, name, c, cls_name, tok, seed):
    d = rg.new_folder(name)
    torch.manual_seed(seed)
    model = getattr(ref, cls_name)(c, add_pooling_layer=False) if cls_name == "JinaBertModel" else \
        getattr(ref, cls_name)(c)
    model.eval()
    fg.perturb(model, seed, heads=rg.HEADS)
    rg.save(model, cls_name, d, AUTO_MAP, "bert", also_drop=TIED[1:])  # decoder.bias is cls.predictions.bias
    tok_cls = tok.save(d)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    texts = fg.case_texts()
    out = rg.run_cases(lambda: load(ref, cls_name, d), ref.JinaBertModel, texts, hf_tok, MAX_LEN)
    gen = (f"tools/make_jina_goldens.py: veya2ztn/sci-bert-finetune {sha} {SRC}modeling_bert.py "
           f"(jinaai/jina-bert-implementation); {fg.versions()} ({tok_cls}, {cls_name}, sdpa, fp32, 1 thread)")
    rg.write(d, out, gen, "jina_bert", cls_name, seed, texts)


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
