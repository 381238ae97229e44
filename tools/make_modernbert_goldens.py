"""Makes the ModernBERT golden folders (tiny-modernbert*) in tests/data/models.

Run with the reference venv outside the tree (the packages of tools/make_family_goldens.py; torch on CPU):
    /work/venv/ref/bin/python tools/make_modernbert_goldens.py
Same format and reference settings as tools/make_family_goldens.py (whose helpers it uses): a tiny random-weight
checkpoint written by save_pretrained (safetensors), a byte-level BPE tokenizer.json trained by `tokenizers` on
the texts of tests/data/tokenizer/uncased.json with ModernBERT's special tokens after the merges ([UNK] [CLS]
[SEP] [PAD] [MASK], [MASK] with lstrip, "[CLS] $A [SEP]" template, no token types), and expected.safetensors /
expected.json with tensors named <case>.<output>, cases single/batch/pair/long (tiny-bert's texts). Expected
outputs come from the folder reloaded by transformers in fp32 (eager attention, one thread).

ModernBERT specifics: 3 layers with global_attn_every_n_layers 3, so layer 0 is global (full attention, θ 160000)
and layers 1-2 local (window |i - j| <= local_attention / 2 = 4, θ 10000); the long case (128 tokens) and the
batch's longer texts are longer than the window. hidden_states as transformers 5 returns them for ModernBERT:
the embeddings' output, then every layer's output before final_norm except the last entry, which is
last_hidden_state (after final_norm) — stored as the reference returns them.
"""
import argparse
import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_family_goldens as fg  # noqa: E402  (sets torch to 1 thread, deterministic)
import numpy as np  # noqa: E402
import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from tokenizers import decoders, models, pre_tokenizers, processors, trainers  # noqa: E402

MAX_LEN = 128
SPECIALS = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]


class ModernBertBpe:
    """Byte-level BPE as ModernBERT's tokenizer.json: merges first, the special tokens after them."""

    def __init__(self):
        tok = tokenizers.Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=[], show_progress=False,
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
        tok.train_from_iterator(fg.training_corpus(), trainer)
        tok.add_special_tokens([tokenizers.AddedToken(t, special=True, normalized=False, lstrip=(t == "[MASK]"))
                                for t in SPECIALS])
        cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:0 [SEP]:0",
            special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
        self.tok = tok
        self.size = tok.get_vocab_size()

    def ids(self):
        return {t: self.tok.token_to_id(t) for t in SPECIALS}

    def save(self, d):
        t = transformers.PreTrainedTokenizerFast(
            tokenizer_object=self.tok, unk_token="[UNK]", cls_token="[CLS]", sep_token="[SEP]", pad_token="[PAD]",
            mask_token="[MASK]", model_max_length=MAX_LEN, model_input_names=["input_ids", "attention_mask"])
        t.save_pretrained(d)
        fg.clean_tokenizer_config(d)
        return "PreTrainedTokenizerFast"


def perturb(model, seed, scale=0.05, head_scale=0.4):
    """As make_family_goldens.perturb: peaked attention (the Q and K rows of Wqkv 8x), norm gains 1+N(0,0.1),
    biases N(0,0.02), head weights N(0,0.4²)."""
    g = torch.Generator().manual_seed(seed)
    hidden = model.config.hidden_size
    is_base = model.base_model is model
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith("Wqkv.weight"):
                p.copy_(scale * torch.randn(p.shape, generator=g))
                p[:2 * hidden] *= 8
            elif not is_base and not name.startswith("model."):
                p.copy_(head_scale * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
    model.tie_weights()


def config(tok, **kw):
    ids = tok.ids()
    vocab = (tok.size + 7) // 8 * 8  # padded past the tokenizer, as ModernBERT's 50368 > 50285 tokens
    c = transformers.ModernBertConfig(
        vocab_size=vocab, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
        hidden_activation="gelu", max_position_embeddings=MAX_LEN, local_attention=8, global_attn_every_n_layers=3,
        global_rope_theta=160000.0, local_rope_theta=10000.0, norm_eps=1e-5, pad_token_id=ids["[PAD]"],
        bos_token_id=ids["[CLS]"], cls_token_id=ids["[CLS]"], eos_token_id=ids["[SEP]"], sep_token_id=ids["[SEP]"])
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def encode_cases(hf_tok, texts):
    encs = fg.encode_cases(hf_tok, texts, MAX_LEN)
    for e in encs.values():
        e.pop("token_type_ids", None)
    return encs


def build(name, c, cls_name, tok, seed, storage="F32"):
    d = os.path.join(fg.MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    model = getattr(transformers, cls_name)(c)
    model.eval()
    perturb(model, seed)
    fg.round_params(model, storage)
    model.to(fg.STORAGE_DTYPE[storage]).save_pretrained(d, safe_serialization=True)
    tok_cls = tok.save(d)
    ref = fg.load_reference(d, cls_name)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    texts = fg.case_texts()
    outputs = fg.run_cases(ref, encode_cases(hf_tok, texts), type_ids=False)
    meta = {"generator": fg.generator_string(tok_cls, cls_name).replace("make_family_goldens",
                                                                          "make_modernbert_goldens"),
            "family": "modernbert", "class": cls_name, "storage": storage, "seed": seed, "texts": texts,
            "note": fg.NOTE + "; hidden_states: embeddings output, the outputs of layers 0..L-2 (before final_norm) "
                              "and last_hidden_state (after final_norm), as transformers returns them"}
    fg.write_expected(d, outputs, meta)
    print(f"{name}: {cls_name} {storage}, vocab {c.vocab_size}, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")
    return d


def main():
    argparse.ArgumentParser(description=__doc__.split("\n")[0]).parse_args()
    print(fg.versions())
    tok = ModernBertBpe()
    build("tiny-modernbert", config(tok), "ModernBertModel", tok, 61)
    build("tiny-modernbert-mlm", config(tok), "ModernBertForMaskedLM", tok, 62)
    build("tiny-modernbert-classifier", fg.labels(config(tok, classifier_pooling="mean"), fg.LABELS3),
          "ModernBertForSequenceClassification", tok, 63)
    build("tiny-modernbert-classifier-cls", fg.labels(config(tok, classifier_pooling="cls"), {0: "LABEL_0"}),
          "ModernBertForSequenceClassification", tok, 64, storage="BF16")
    build("tiny-modernbert-token", fg.labels(config(tok), fg.NER5), "ModernBertForTokenClassification", tok, 65)


if __name__ == "__main__":
    main()
