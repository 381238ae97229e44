"""Makes the BERT-family golden folders (RoBERTa, XLM-RoBERTa, DistilBERT, ELECTRA, MPNet) in tests/data/models.

Run with the reference venv outside the tree (pip install torch transformers tokenizers sentence-transformers
safetensors numpy sentencepiece protobuf; torch used on CPU):
    /work/venv/ref/bin/python tools/make_family_goldens.py [--family roberta|xlm-roberta|distilbert|electra|mpnet ...]
Each folder is a tiny random-weight checkpoint written by transformers' save_pretrained (safetensors), its
tokenizer (made from the texts of tests/data/tokenizer/uncased.json: byte-level BPE by the `tokenizers` trainer,
Unigram by `sentencepiece`, WordPiece vocabs picked by frequency here; saved by the family's transformers
tokenizer), and expected.safetensors / expected.json in the format of the
existing tiny-bert goldens: tensors named <case>.<output>, cases single/batch/pair/long (texts of tiny-bert's
expected.json). Expected outputs come from the folder reloaded by transformers in fp32 (eager attention, one
thread), so F16/BF16 folders are referenced from their stored (rounded) weights. Seeds are fixed per model, so a
rerun writes byte-identical files. tools/check_family_goldens.py recomputes everything from the committed folders.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
from collections import Counter

import numpy as np
import torch

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)
import safetensors  # noqa: E402
import safetensors.numpy  # noqa: E402
import sentencepiece as spm  # noqa: E402
import tokenizers  # noqa: E402
import transformers  # noqa: E402
from tokenizers import decoders, models, normalizers, pre_tokenizers, trainers  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODELS = os.path.join(ROOT, "tests", "data", "models")
STORAGE_DTYPE = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16}
LABELS3 = {0: "negative", 1: "neutral", 2: "positive"}
NER5 = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
MASK = tokenizers.AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)  # as roberta-base
ST_MAX_SEQ_LENGTH = 48  # below max_position_embeddings so the ST folder's own truncation shows


def versions():
    import sentence_transformers
    return (f"transformers {transformers.__version__}, torch {torch.__version__}, tokenizers {tokenizers.__version__}, "
            f"sentencepiece {spm.__version__}, sentence-transformers {sentence_transformers.__version__}, "
            f"safetensors {safetensors.__version__}, python {sys.version.split()[0]}")


def generator_string(tok_cls, model_cls):
    return f"tools/make_family_goldens.py: {versions()} ({tok_cls}, {model_cls}, attn eager, fp32, 1 thread)"


def case_texts():
    with open(os.path.join(MODELS, "tiny-bert", "expected.json"), encoding="utf-8") as f:
        return json.load(f)["texts"]


def training_corpus():
    with open(os.path.join(ROOT, "tests", "data", "tokenizer", "uncased.json"), encoding="utf-8") as f:
        return [c["text"] for c in json.load(f)["cases"] if c["text"].strip()]


def clean_tokenizer_config(d):
    """from_pretrained leaves loader flags in tokenizer_config.json that no hub file has."""
    p = os.path.join(d, "tokenizer_config.json")
    with open(p, encoding="utf-8") as f:
        cfg = json.load(f)
    for k in ("is_local", "local_files_only", "name_or_path"):
        cfg.pop(k, None)
    with open(p, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False, sort_keys=True)
        f.write("\n")


# ---------------------------------------------------------------- tokenizers
def top(counter, k):
    return [x for x, _ in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]


class ByteLevelBpe:
    """RoBERTa: byte-level BPE, <s> <pad> </s> <unk> = 0..3, <mask> last, RobertaProcessing."""

    def __init__(self, max_len):
        tok = tokenizers.Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(vocab_size=500, special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
        tok.train_from_iterator(training_corpus(), trainer)
        self.vocab = dict(sorted(tok.get_vocab().items(), key=lambda kv: kv[1]))
        self.vocab["<mask>"] = len(self.vocab)
        self.merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" "))
                       for m in json.loads(tok.to_str())["model"]["merges"]]
        self.max_len = max_len

    def save(self, d):
        t = transformers.RobertaTokenizerFast(vocab=dict(self.vocab), merges=list(self.merges), mask_token=MASK,
                                              model_max_length=self.max_len)
        t.save_pretrained(d)
        clean_tokenizer_config(d)
        with open(os.path.join(d, "vocab.json"), "w", encoding="utf-8") as f:
            json.dump(self.vocab, f, ensure_ascii=False)
        with open(os.path.join(d, "merges.txt"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n")
            for a, b in self.merges:
                f.write(f"{a} {b}\n")
        return "RobertaTokenizerFast"


class SentencePieceUnigram:
    """XLM-RoBERTa: sentencepiece Unigram (nmt_nfkc), converted by transformers' XLMRobertaTokenizerFast."""

    def __init__(self, max_len):
        self.tmp = tempfile.mkdtemp(prefix="spm-")
        corpus = os.path.join(self.tmp, "corpus.txt")
        cwd = os.getcwd()
        os.chdir(self.tmp)  # the model stores its trainer spec: relative paths keep the file byte-identical
        with open(corpus, "w", encoding="utf-8") as f:
            for t in training_corpus():
                for line in t.splitlines():
                    if line.strip():
                        f.write(line + "\n")
        spm.SentencePieceTrainer.train(input="corpus.txt", model_prefix="sp", vocab_size=1000,
                                       model_type="unigram", normalization_rule_name="nmt_nfkc", num_threads=1,
                                       character_coverage=0.9995, minloglevel=2)
        os.chdir(cwd)
        self.model = os.path.join(self.tmp, "sp.model")
        self.max_len = max_len

    def save(self, d):
        src = os.path.join(self.tmp, "hf")
        os.makedirs(src, exist_ok=True)
        shutil.copy(self.model, os.path.join(src, "sentencepiece.bpe.model"))
        t = transformers.XLMRobertaTokenizerFast.from_pretrained(src, mask_token=MASK, model_max_length=self.max_len)
        t.save_pretrained(d)
        clean_tokenizer_config(d)
        shutil.copy(self.model, os.path.join(d, "sentencepiece.bpe.model"))
        return "XLMRobertaTokenizerFast"


class WordPiece:
    """Uncased BERT-style WordPiece vocab of 501; `mpnet` puts MPNet's <s> <pad> </s> <unk> in front, <mask> last.

    Chosen here by frequency (ties by string) rather than by the `tokenizers` WordPiece trainer, whose tie order
    changes from run to run: [PAD] [UNK] [CLS] [SEP] [MASK], the 150 most frequent characters, each again as a
    ##continuation, then frequent whole words, word starts and ##pieces of 2-4 characters (words holding a
    character outside the alphabet become [UNK])."""

    def __init__(self, max_len, cls_name, mpnet=False, size=501):
        norm = normalizers.BertNormalizer(lowercase=True)
        pre = pre_tokenizers.BertPreTokenizer()
        words = Counter()
        for t in training_corpus():
            for w, _ in pre.pre_tokenize_str(norm.normalize_str(t)):
                words[w] += 1
        chars = Counter()
        for w, c in words.items():
            for ch in w:
                chars[ch] += c
        alphabet = top(chars, 150)
        whole, starts, pieces = Counter(), Counter(), Counter()
        for w, c in words.items():
            if len(w) < 2 or not set(w) <= set(alphabet):
                continue
            whole[w] += c
            for n in (2, 3, 4):
                if len(w) > n:
                    starts[w[:n]] += c
                for i in range(1, len(w) - n + 1):
                    pieces["##" + w[i:i + n]] += c
        base = size - 5 if mpnet else size
        vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + alphabet + ["##" + ch for ch in alphabet]
        seen = set(vocab)
        for pool, k in ((top(whole, 100), 100), (top(starts, 40), 40), (top(pieces, base), base)):
            for t in pool[:k]:
                if len(vocab) < base and t not in seen:
                    vocab.append(t)
                    seen.add(t)
        if mpnet:
            vocab = ["<s>", "<pad>", "</s>", "<unk>"] + vocab + ["<mask>"]
        self.vocab = vocab
        self.max_len = max_len
        self.cls_name = cls_name

    def save(self, d):
        path = os.path.join(d, "vocab.txt")
        with open(path, "w", encoding="utf-8") as f:
            f.write("".join(t + "\n" for t in self.vocab))
        cls = getattr(transformers, self.cls_name)
        t = cls(vocab=path, do_lower_case=True, model_max_length=self.max_len)
        t.save_pretrained(d)
        clean_tokenizer_config(d)
        return self.cls_name


# ---------------------------------------------------------------- weights
def perturb(model, seed, scale=0.05, head_scale=0.4, norms=("norm",), heads=None, packed_qk=None):
    """Random weights like make_golden.py: peaked attention (Q/K 8x), LayerNorm gains 1+N(0,0.1), biases N(0,0.02).
    norms: name parts (lower case) of norm gains; heads: name prefixes of head weights (default: outside the base
    model); packed_qk: name ending of a packed [Q; K; V] weight whose Q and K rows get the 8x."""
    g = torch.Generator().manual_seed(seed)
    prefix = model.base_model_prefix + "."
    is_base = model.base_model is model
    hidden = getattr(model.config, "hidden_size", None)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if any(n in name.lower() for n in norms) and name.endswith(".weight"):
                p.copy_(1.0 + 0.1 * torch.randn(p.shape, generator=g))
            elif name.endswith(".bias"):
                p.copy_(0.02 * torch.randn(p.shape, generator=g))
            elif name.endswith(("query.weight", "key.weight", "q_lin.weight", "k_lin.weight", "attn.q.weight",
                                "attn.k.weight")):
                p.copy_(8 * scale * torch.randn(p.shape, generator=g))
            elif packed_qk and name.endswith(packed_qk):
                p.copy_(scale * torch.randn(p.shape, generator=g))
                p[:2 * hidden] *= 8
            elif "relative_attention_bias" in name:  # MPNet's bucket bias: large enough to move the attention
                p.copy_(torch.randn(p.shape, generator=g))
            elif (name.startswith(heads) if heads else not is_base and not name.startswith(prefix)):  # logits away from 0
                p.copy_(head_scale * torch.randn(p.shape, generator=g))
            else:
                p.copy_(scale * torch.randn(p.shape, generator=g))
    if hasattr(model, "tie_weights"):
        model.tie_weights()


def round_params(model, storage):
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.to(STORAGE_DTYPE[storage]).float())


def load_reference(d, cls_name):
    cls = getattr(transformers, cls_name)
    model, info = cls.from_pretrained(d, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    bad = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if bad:
        raise SystemExit(f"{d}: transformers did not load every weight: {bad}")
    model.eval()
    return model


# ---------------------------------------------------------------- cases
def encode_cases(tok, texts, max_len):
    pair = texts["pair"][0]
    return {
        "single": tok(texts["single"], return_tensors="pt"),
        "batch": tok(texts["batch"], padding=True, truncation=True, max_length=max_len, return_tensors="pt"),
        "pair": tok([pair[0]], [pair[1]], truncation=True, max_length=max_len, return_tensors="pt"),
        "long": tok(texts["long"], truncation=True, max_length=max_len, return_tensors="pt"),
    }


def run_cases(model, encs, type_ids, big_logits_cases=("single",), attentions=True):
    """Every output the model returns, per case; [B,S,vocab] MLM logits only for the small cases; attentions for
    single unless `attentions` is False (a reference that cannot return them)."""
    out = {}
    with torch.no_grad():
        for case, enc in encs.items():
            out[f"{case}.input_ids"] = enc["input_ids"].numpy().astype(np.int64)
            out[f"{case}.attention_mask"] = enc["attention_mask"].numpy().astype(np.int64)
            if type_ids:
                tt = enc["token_type_ids"] if "token_type_ids" in enc else torch.zeros_like(enc["input_ids"])
                out[f"{case}.token_type_ids"] = tt.numpy().astype(np.int64)
            res = model(**enc, output_hidden_states=True, output_attentions=attentions and case == "single",
                        return_dict=True)
            hs = res.hidden_states
            out[f"{case}.last_hidden_state"] = hs[-1].numpy()
            if case == "single":
                out[f"{case}.hidden_states"] = torch.stack(hs).numpy()
                if attentions:
                    out[f"{case}.attentions"] = torch.stack(res.attentions).numpy()
            if getattr(res, "pooler_output", None) is not None:
                out[f"{case}.pooler_output"] = res.pooler_output.numpy()
            for name in ("logits", "start_logits", "end_logits"):
                v = getattr(res, name, None)
                if v is None:
                    continue
                if v.dim() == 3 and v.shape[-1] == model.config.vocab_size and case not in big_logits_cases:
                    continue
                out[f"{case}.{name}"] = v.numpy()
    return out


def transformers4_extended_attention_mask(self, attention_mask, input_shape, *a, **k):
    """PreTrainedModel.get_extended_attention_mask as transformers 4 defined it for a 2-D encoder mask (5 removed
    it; remote modeling files still call it): [B, 1, 1, S], 0 where attended, float32 min where masked."""
    e = attention_mask[:, None, None, :].to(torch.float32)
    return (1.0 - e) * torch.finfo(torch.float32).min


def write_expected(d, outputs, meta):
    safetensors.numpy.save_file({k: np.ascontiguousarray(v) for k, v in sorted(outputs.items())},
                                os.path.join(d, "expected.safetensors"), metadata={"generator": meta["generator"]})
    with open(os.path.join(d, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
        f.write("\n")


NOTE = ("tensors in expected.safetensors are named <case>.<output>; hidden_states is [layers+1, batch, seq, hidden]; "
        "attentions is [layers, batch, heads, seq, seq]; MLM logits [batch, seq, vocab] only for single; "
        "compare positions where attention_mask is 1")


def build(name, family, config, cls_name, tok, seed, storage="F32", type_ids=False, type_ids_note=None):
    d = os.path.join(MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    cls = getattr(transformers, cls_name)
    model = cls(config)
    model.eval()
    perturb(model, seed)
    round_params(model, storage)
    model.to(STORAGE_DTYPE[storage]).save_pretrained(d, safe_serialization=True)
    tok_cls = tok.save(d)
    ref = load_reference(d, cls_name)
    hf_tok = transformers.AutoTokenizer.from_pretrained(d)
    texts = case_texts()
    outputs = run_cases(ref, encode_cases(hf_tok, texts, hf_tok.model_max_length), type_ids)
    meta = {"generator": generator_string(tok_cls, cls_name), "family": family, "class": cls_name,
            "storage": storage, "seed": seed, "texts": texts, "note": NOTE}
    if type_ids_note:
        meta["token_type_ids"] = type_ids_note
    write_expected(d, outputs, meta)
    print(f"{name}: {cls_name} {storage}, vocab {config.vocab_size}, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")
    return d


# ---------------------------------------------------------------- families
def labels(cfg, id2label):
    cfg.num_labels = len(id2label)
    cfg.id2label = dict(id2label)
    cfg.label2id = {v: k for k, v in id2label.items()}
    return cfg


def roberta_like(family, cfg_cls, vocab_size, tok, prefix, heads, positions):
    def cfg(**kw):
        c = cfg_cls(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=4, intermediate_size=37, max_position_embeddings=positions + 2,
                    type_vocab_size=1, pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
                    hidden_act="gelu")
        for k, v in kw.items():
            setattr(c, k, v)
        return c
    note = "zeros: the tokenizer returns none; the model's type_vocab_size is 1 (its default is zeros too)"
    for name, cls_name, seed, storage, id2label in heads:
        c = cfg()
        if id2label is not None:
            labels(c, id2label)
        build(f"{prefix}{name}", family, c, cls_name, tok, seed, storage, type_ids=True, type_ids_note=note)


def make_roberta():
    tok = ByteLevelBpe(max_len=64)
    roberta_like("roberta", transformers.RobertaConfig, len(tok.vocab), tok, "tiny-roberta", [
        ("", "RobertaModel", 11, "F32", None),
        ("-classifier", "RobertaForSequenceClassification", 12, "F16", LABELS3),
        ("-reranker", "RobertaForSequenceClassification", 13, "F32", {0: "LABEL_0"}),
        ("-mlm", "RobertaForMaskedLM", 14, "F32", None),
        ("-token", "RobertaForTokenClassification", 15, "F32", NER5),
        ("-qa", "RobertaForQuestionAnswering", 16, "F32", None),
    ], positions=64)


def make_xlm_roberta():
    tok = SentencePieceUnigram(max_len=128)
    vocab = len(spm.SentencePieceProcessor(model_file=tok.model)) + 2  # fairseq offset 1, <mask> last
    roberta_like("xlm-roberta", transformers.XLMRobertaConfig, vocab, tok, "tiny-xlm-roberta", [
        ("", "XLMRobertaModel", 21, "F32", None),
        ("-reranker", "XLMRobertaForSequenceClassification", 22, "BF16", {0: "LABEL_0"}),
    ], positions=128)


def make_distilbert():
    tok = WordPiece(64, "DistilBertTokenizerFast")
    for name, cls_name, seed, storage, id2label in [
            ("tiny-distilbert", "DistilBertModel", 31, "F32", None),
            ("tiny-distilbert-classifier", "DistilBertForSequenceClassification", 32, "BF16", LABELS3),
            ("tiny-distilbert-mlm", "DistilBertForMaskedLM", 33, "F32", None),
            ("tiny-distilbert-token", "DistilBertForTokenClassification", 34, "F32", NER5),
            ("tiny-distilbert-qa", "DistilBertForQuestionAnswering", 35, "F32", None)]:
        c = transformers.DistilBertConfig(vocab_size=len(tok.vocab), dim=32, n_layers=2, n_heads=4, hidden_dim=37,
                                          max_position_embeddings=64, sinusoidal_pos_embds=False, activation="gelu",
                                          pad_token_id=0)
        if id2label is not None:
            labels(c, id2label)
        build(name, "distilbert", c, cls_name, tok, seed, storage)


def make_electra():
    tok = WordPiece(64, "ElectraTokenizerFast")
    for name, cls_name, seed, storage, id2label in [
            ("tiny-electra", "ElectraModel", 41, "F32", None),
            ("tiny-electra-classifier", "ElectraForSequenceClassification", 42, "F32", LABELS3),
            ("tiny-electra-discriminator", "ElectraForPreTraining", 43, "F16", None),
            ("tiny-electra-token", "ElectraForTokenClassification", 44, "F32", NER5)]:
        c = transformers.ElectraConfig(vocab_size=len(tok.vocab), embedding_size=24, hidden_size=32,
                                       num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
                                       max_position_embeddings=64, type_vocab_size=2, hidden_act="gelu",
                                       pad_token_id=0)
        if id2label is not None:
            labels(c, id2label)
        build(name, "electra", c, cls_name, tok, seed, storage, type_ids=True)


def mpnet_config(tok, id2label=None):
    c = transformers.MPNetConfig(vocab_size=len(tok.vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                                 intermediate_size=37, max_position_embeddings=66, relative_attention_num_buckets=32,
                                 pad_token_id=1, bos_token_id=0, eos_token_id=2, layer_norm_eps=1e-5,
                                 hidden_act="gelu")
    if id2label is not None:
        labels(c, id2label)
    return c


def make_mpnet():
    tok = WordPiece(64, "MPNetTokenizerFast", mpnet=True)
    for name, cls_name, seed, storage, id2label in [
            ("tiny-mpnet", "MPNetModel", 51, "F32", None),
            ("tiny-mpnet-mlm", "MPNetForMaskedLM", 52, "BF16", None),
            ("tiny-mpnet-classifier", "MPNetForSequenceClassification", 53, "F32", LABELS3)]:
        build(name, "mpnet", mpnet_config(tok, id2label), cls_name, tok, seed, storage)
    make_mpnet_st(tok)


def st_files(d, max_seq_length, dim):
    """The sentence-transformers files of an all-mpnet-base-v2-style folder (mean pooling, then Normalize)."""
    import sentence_transformers
    mods = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]
    files = {
        "modules.json": mods,
        "sentence_bert_config.json": {"max_seq_length": max_seq_length, "do_lower_case": False},
        "config_sentence_transformers.json": {"__version__": {
            "sentence_transformers": sentence_transformers.__version__, "transformers": transformers.__version__,
            "pytorch": torch.__version__}},
        "1_Pooling/config.json": {"word_embedding_dimension": dim, "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False},
    }
    for rel, obj in files.items():
        os.makedirs(os.path.dirname(os.path.join(d, rel)) or d, exist_ok=True)
        with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=2)
            f.write("\n")


def st_cases(st_model, ref, texts):
    """Inputs as the SentenceTransformer tokenizes them, the token embeddings, and encode()'s sentence embeddings."""
    out = {}
    cases = {"single": texts["single"], "batch": texts["batch"], "long": texts["long"]}
    with torch.no_grad():
        for case, tx in cases.items():
            feats = st_model.tokenize(tx)
            out[f"{case}.input_ids"] = feats["input_ids"].numpy().astype(np.int64)
            out[f"{case}.attention_mask"] = feats["attention_mask"].numpy().astype(np.int64)
            res = ref(input_ids=feats["input_ids"], attention_mask=feats["attention_mask"])
            out[f"{case}.last_hidden_state"] = res.last_hidden_state.numpy()
            emb = st_model.encode(tx, convert_to_numpy=True, batch_size=len(tx), normalize_embeddings=False)
            out[f"{case}.sentence_embedding"] = np.asarray(emb, dtype=np.float32)
    return out


def make_mpnet_st(tok):
    from sentence_transformers import SentenceTransformer
    name, seed = "tiny-mpnet-st", 54
    d = os.path.join(MODELS, name)
    if os.path.isdir(d):
        shutil.rmtree(d)
    os.makedirs(d)
    torch.manual_seed(seed)
    model = transformers.MPNetModel(mpnet_config(tok))
    model.eval()
    perturb(model, seed)
    model.save_pretrained(d, safe_serialization=True)
    tok_cls = tok.save(d)
    st_files(d, ST_MAX_SEQ_LENGTH, 32)
    st_model = SentenceTransformer(d, device="cpu")
    st_model.eval()
    ref = load_reference(d, "MPNetModel")
    texts = case_texts()
    outputs = st_cases(st_model, ref, texts)
    meta = {"generator": generator_string(tok_cls, "MPNetModel") + " + SentenceTransformer.encode",
            "family": "mpnet", "class": "MPNetModel", "storage": "F32", "seed": seed,
            "sentence_transformers": {"modules": ["Transformer", "Pooling(mean)", "Normalize"],
                                      "max_seq_length": ST_MAX_SEQ_LENGTH},
            "texts": {k: texts[k] for k in ("single", "batch", "long")},
            "note": "cases single/batch/long: input_ids/attention_mask as SentenceTransformer.tokenize made them "
                    "(truncated at max_seq_length), last_hidden_state of MPNetModel on them, sentence_embedding = "
                    "SentenceTransformer(folder).encode(texts) (float32, mean pooling then L2 normalisation)"}
    write_expected(d, outputs, meta)
    print(f"{name}: MPNetModel + sentence-transformers, "
          f"{sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(d) for f in fs)} bytes")


FAMILIES = {"roberta": make_roberta, "xlm-roberta": make_xlm_roberta, "distilbert": make_distilbert,
            "electra": make_electra, "mpnet": make_mpnet}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", action="append", choices=sorted(FAMILIES), help="default: all")
    args = ap.parse_args()
    print(versions())
    for fam in args.family or list(FAMILIES):
        FAMILIES[fam]()


if __name__ == "__main__":
    main()
