#!/work/venv/ref/bin/python
"""SentencePiece-only tokenizer folders (no tokenizer.json) and what transformers' AutoTokenizer makes of them.

Runs with the reference venv's python (outside the tree; transformers, tokenizers, sentencepiece, protobuf):
    /work/venv/ref/bin/python tools/make_sentencepiece_goldens.py [FOLDER_NAME...]

Trains small SentencePiece models with the `sentencepiece` trainer (unigram and bpe, with and
without byte_fallback, with and without the nmt_nfkc charsmap, one with a user-defined symbol)
on generated multilingual text plus /usr/share/common-licenses, lays them out as XLM-R-,
CamemBERT-, ALBERT-, DeBERTa-v2-, T5- and XLNet-style folders (tests/data/sentencepiece/<name>/; three
with their own extra special tokens in tokenizer_config.json / special_tokens_map.json), loads each with
AutoTokenizer (the fast tokenizer transformers converts the model to) and writes the goldens of
its backend tokenizer (ids, tokens, offsets, word ids, pairs, truncation with stride, padding,
decode) beside them as <name>.json.gz, in the format of tools/make_tokenizer_goldens.py.
Every single-text case is also checked against the AutoTokenizer call itself (input_ids and
offset_mapping). It also prints how often SentencePiece's own encode (the library Debian ships
as libsentencepiece) gives other pieces than the converted tokenizer.
"""
import json
import os
import random
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_tokenizer_goldens as mtg  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "sentencepiece")

# name, trainer arguments, file name, tokenizer_config.json, config.json (None: none)
FOLDERS = [
    ("xlmr-unigram", dict(model_type="unigram", vocab_size=1500, user_defined_symbols=["<url>"]),
     "sentencepiece.bpe.model", {"tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512}, None),
    ("xlmr-bpe-bytefallback", dict(model_type="bpe", vocab_size=1500, byte_fallback=True),
     "sentencepiece.bpe.model", {"model_max_length": 512}, {"model_type": "xlm-roberta"}),
    ("camembert-unigram-bytefallback-identity",
     dict(model_type="unigram", vocab_size=1500, byte_fallback=True, normalization_rule_name="identity"),
     "sentencepiece.bpe.model", {"tokenizer_class": "CamembertTokenizer"}, None),
    ("albert-unigram",
     dict(model_type="unigram", vocab_size=1500, pad_id=0, unk_id=1, bos_id=2, eos_id=3, bos_piece="[CLS]",
          eos_piece="[SEP]", control_symbols=["[MASK]"]),
     "spiece.model", {"tokenizer_class": "AlbertTokenizer"}, None),
    ("albert-bpe-cased-accents",
     dict(model_type="bpe", vocab_size=1500, pad_id=0, unk_id=1, bos_id=2, eos_id=3, bos_piece="[CLS]",
          eos_piece="[SEP]", control_symbols=["[MASK]"]),
     "spiece.model", {"tokenizer_class": "AlbertTokenizerFast", "do_lower_case": False, "keep_accents": True}, None),
    # DeBERTa-v3's layout: [PAD] [CLS] [SEP] [UNK] first, [MASK] a control symbol.
    ("deberta-v2-unigram",
     dict(model_type="unigram", vocab_size=1500, pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]",
          bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]", control_symbols=["[MASK]"],
          user_defined_symbols=["<url>"]),
     "spm.model", {"tokenizer_class": "DebertaV2Tokenizer", "do_lower_case": False, "model_max_length": 512}, None),
    ("deberta-v2-bpe-lower-punct-noprefix",
     dict(model_type="bpe", vocab_size=1500, pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]",
          bos_piece="[CLS]", eos_piece="[SEP]", unk_piece="[UNK]", control_symbols=["[MASK]"]),
     "spm.model", {"do_lower_case": True, "split_by_punct": True, "add_prefix_space": False}, {"model_type": "deberta-v2"}),
    # T5's layout: <pad> </s> <unk>, no <s>; the 100 <extra_id_N> sentinels come from the tokenizer class.
    ("t5-unigram",
     dict(model_type="unigram", vocab_size=1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, user_defined_symbols=["<url>"]),
     "spiece.model", {"tokenizer_class": "T5Tokenizer", "model_max_length": 512}, None),
    ("t5-bpe-extra5",
     dict(model_type="bpe", vocab_size=1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, byte_fallback=True),
     "spiece.model", {"extra_ids": 5}, {"model_type": "t5"}),
    # XLNet's layout: <unk> <s> </s> <cls> <sep> <pad> <mask> <eod> <eop>.
    ("xlnet-unigram",
     dict(model_type="unigram", vocab_size=1500, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
          control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"]),
     "spiece.model", {"tokenizer_class": "XLNetTokenizer"}, None),
    ("xlnet-bpe-lower",
     dict(model_type="bpe", vocab_size=1500, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
          control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"]),
     "spiece.model", {"do_lower_case": True, "keep_accents": True}, {"model_type": "xlnet"}),
    # The folder's own extra special tokens: they replace the class's list (control / user-defined
    # pieces, T5's sentinels); new ones get ids after the vocabulary. The config's additional list,
    # then special_tokens_map.json's extra list appended; the map's additional list is never read.
    ("xlmr-unigram-extra-specials", dict(model_type="unigram", vocab_size=1500, user_defined_symbols=["<url>"]),
     "sentencepiece.bpe.model",
     {"tokenizer_class": "XLMRobertaTokenizer", "additional_special_tokens": [
         "<ent>", {"__type": "AddedToken", "content": "<ent2>", "lstrip": True, "rstrip": False, "normalized": False,
                   "single_word": False, "special": True}, "\u2581the", "<url>", "<s>"]},
     None,
     {"extra_special_tokens": ["<ent>", {"content": "<rs>", "lstrip": False, "rstrip": True, "normalized": False,
                                         "single_word": False}], "additional_special_tokens": ["<never>"]}),
    ("t5-unigram-extra-specials",
     dict(model_type="unigram", vocab_size=1500, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, user_defined_symbols=["<url>"]),
     "spiece.model",
     {"tokenizer_class": "T5Tokenizer", "extra_ids": 4, "extra_special_tokens": [
         "<extra_id_1>", "<q>", {"__type": "AddedToken", "content": "<lr>", "lstrip": True, "rstrip": True,
                                 "normalized": False, "single_word": False, "special": True}, "\u2581of"],
      "additional_special_tokens": ["<never>"]}, None, None),
    ("albert-unigram-extra-specials",
     dict(model_type="unigram", vocab_size=1500, pad_id=0, unk_id=1, bos_id=2, eos_id=3, bos_piece="[CLS]",
          eos_piece="[SEP]", control_symbols=["[MASK]", "<ctl>"]),
     "spiece.model", {"tokenizer_class": "AlbertTokenizer"}, None,
     {"extra_special_tokens": ["[MASK]", "<sep2>", {"content": "<ls>", "lstrip": True, "rstrip": False,
                                                     "normalized": False, "single_word": False}]}),
    # extra_special_tokens as a dict (model-specific named tokens: a new one, a piece, the user-defined
    # <url>, which becomes special, an lstrip AddedToken); additional_special_tokens is then not read.
    ("xlmr-unigram-extra-dict", dict(model_type="unigram", vocab_size=1500, user_defined_symbols=["<url>"]),
     "sentencepiece.bpe.model",
     {"tokenizer_class": "XLMRobertaTokenizer",
      "extra_special_tokens": {"image_token": "<image>", "the_token": "\u2581the", "url_token": "<url>",
                               "ent_token": {"__type": "AddedToken", "content": "<ent>", "lstrip": True, "rstrip": False,
                                             "normalized": False, "single_word": False, "special": True}},
      "additional_special_tokens": ["<never>"]},
     None),
    # single_word / normalized AddedTokens in the extra_special_tokens list.
    ("xlmr-unigram-extra-flags", dict(model_type="unigram", vocab_size=1500, user_defined_symbols=["<url>"]),
     "sentencepiece.bpe.model",
     {"tokenizer_class": "XLMRobertaTokenizer", "extra_special_tokens": [
         "<ent>", {"__type": "AddedToken", "content": "<sw>", "lstrip": False, "rstrip": False, "normalized": False,
                   "single_word": True, "special": True},
         {"__type": "AddedToken", "content": "\ufb01x", "lstrip": False, "rstrip": False, "normalized": True,
          "single_word": False, "special": True}]},
     None),
    # added_tokens_decoder in tokenizer_config.json: its flags replace the class's (<mask> rstrip, not
    # lstrip), new tokens get the next ids whatever the keys say, a piece keeps its id; single_word and
    # normalized honoured; special_tokens_map.json is then not read (its mask_token and list ignored).
    ("xlmr-unigram-added-tokens-decoder", dict(model_type="unigram", vocab_size=1500, user_defined_symbols=["<url>"]),
     "sentencepiece.bpe.model",
     {"tokenizer_class": "XLMRobertaTokenizer", "added_tokens_decoder": {
         "0": {"content": "<s>", "lstrip": False, "rstrip": False, "normalized": False, "single_word": False, "special": True},
         "3": {"content": "<unk>", "lstrip": False, "rstrip": False, "normalized": False, "single_word": False, "special": True},
         "1501": {"content": "<mask>", "lstrip": False, "rstrip": True, "normalized": False, "single_word": False,
                  "special": True},
         "1600": {"content": "<sw>", "lstrip": False, "rstrip": False, "normalized": True, "single_word": True,
                  "special": False},
         "1700": {"content": "\ufb01n", "lstrip": False, "rstrip": False, "normalized": True, "single_word": False,
                  "special": True},
         "5": {"content": "\u2581the", "lstrip": False, "rstrip": False, "normalized": False, "single_word": False,
               "special": False}}},
     None,
     {"mask_token": "<mask9>", "extra_special_tokens": ["<never>"], "additional_special_tokens": ["<never2>"]}),
]


def training_text():
    rng = random.Random(5)
    lines = []
    for name in ("GPL-3", "Apache-2.0", "MPL-2.0"):
        with open(os.path.join("/usr/share/common-licenses", name), encoding="utf-8") as f:
            lines += [l for l in f.read().split("\n") if l.strip()]
    for _ in range(3000):
        lines.append(" ".join(mtg.word(rng) for _ in range(rng.randint(3, 12))))
    lines += ["Ça va très bien, naïve café résumé ÉCOLE 1,000 2,5 ``quoted'' <url>"] * 20
    return lines


def make_folder(name, args, fname, tcfg, mcfg, lines, smap=None):
    import sentencepiece as spm

    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    prefix = os.path.join(d, "m")
    spm.SentencePieceTrainer.train(sentence_iterator=iter(lines), model_prefix=prefix, num_threads=1, minloglevel=2,
                                   character_coverage=0.995, **args)
    os.rename(prefix + ".model", os.path.join(d, fname))
    os.remove(prefix + ".vocab")
    with open(os.path.join(d, "tokenizer_config.json"), "w") as f:
        json.dump(tcfg, f, indent=2)
    if mcfg is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(mcfg, f, indent=2)
    if smap is not None:
        with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
            json.dump(smap, f, indent=2)
    return d


def check_auto(auto, backend, texts):
    """AutoTokenizer's own call agrees with its backend tokenizer (what the goldens record)."""
    bad = 0
    for t in texts:
        a = auto(t, return_offsets_mapping=True)
        e = backend.encode(t)
        if a["input_ids"] != e.ids or [tuple(o) for o in a["offset_mapping"]] != [tuple(o) for o in e.offsets]:
            bad += 1
    return bad


def compare_spm(model_file, backend, texts):
    """Texts whose SentencePiece pieces differ from the converted tokenizer's (special tokens removed)."""
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=model_file)
    diff = 0
    for t in texts:
        ours = backend.encode(t, add_special_tokens=False).tokens
        if sp.encode(t, out_type=str) != ours:
            diff += 1
    return diff


def add_auto_padding(name, auto, texts):
    """AutoTokenizer's own padding (padding_side, pad type id: XLNet pads on the left) of a few batches."""
    import gzip

    path = os.path.join(OUT, name + ".json.gz")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        doc = json.load(f)
    rows = []
    for b in range(10):
        batch = [texts[(b * 11 + k * 7) % len(texts)][:80] for k in range(3)]
        pairs = [texts[(b * 5 + k * 3 + 1) % len(texts)][:40] for k in range(3)] if b % 2 else None
        out = auto(batch, pairs, padding=True, return_token_type_ids=True)
        rows.append({"texts": batch, "pairs": pairs, "input_ids": out["input_ids"],
                     "attention_mask": out["attention_mask"], "token_type_ids": out["token_type_ids"]})
    doc["auto_padding"] = {"padding_side": auto.padding_side, "batches": rows}
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))


# Strings typed into the texts besides the added tokens: ones the folder's own list keeps from being added.
TYPED = {"xlmr-unigram-extra-specials": ["<never>", "\u2581of"],
         "t5-unigram-extra-specials": ["<extra_id_0>", "<extra_id_3>", "<url>", "<never>"],
         "albert-unigram-extra-specials": ["<ctl>", "\u2581the"],
         "xlmr-unigram-extra-dict": ["<never>", "\u2581the", "the", "a<ent>b"],
         "xlmr-unigram-extra-flags": ["fix", "a<sw>b", "x <sw> y", "<sw>z", "efix"],
         "xlmr-unigram-added-tokens-decoder": ["<mask9>", "<never>", "<never2>", "fin", "a<sw>b", "x <sw>", "the"]}

# Folders whose golden also records AutoTokenizer's own batch padding.
AUTO_PADDING = {"t5-unigram", "t5-bpe-extra5", "xlnet-unigram", "xlnet-bpe-lower", "t5-unigram-extra-specials"}


def main():
    from transformers import AutoTokenizer
    import transformers

    only = set(sys.argv[1:])  # folder names to (re)make; all when none
    lines = training_text()
    for k, (name, args, fname, tcfg, mcfg, *smap) in enumerate(FOLDERS):
        if only and name not in only:
            continue
        d = make_folder(name, args, fname, tcfg, mcfg, lines, *smap)
        auto = AutoTokenizer.from_pretrained(d)
        assert auto.is_fast, name
        raw = auto.backend_tokenizer.to_str()
        specials = [t.content for t in auto.backend_tokenizer.get_added_tokens_decoder().values()] + TYPED.get(name, [])
        texts = mtg.corpus(40 + k, 600, specials)
        bad = check_auto(auto, auto.backend_tokenizer, texts)
        if bad:
            raise SystemExit(f"{name}: AutoTokenizer and its backend disagree on {bad} texts")
        mtg.make_goldens(name, "../sentencepiece/" + name, 600, 40 + k, raw=raw, out_dir=OUT,
                         generator="transformers " + transformers.__version__ + " AutoTokenizer (" +
                         type(auto).__name__ + ")", typed=TYPED.get(name, []))
        if name in AUTO_PADDING:
            add_auto_padding(name, auto, texts)
        n = compare_spm(os.path.join(d, fname), auto.backend_tokenizer, texts)
        print(f"{name}: {type(auto).__name__}; SentencePiece's own pieces differ on {n} of {len(texts)} texts")


if __name__ == "__main__":
    main()
