#!/work/venv/tok/bin/python
"""Goldens of the Hugging Face `tokenizers` pipeline (the Rust library, through its Python binding).

Runs with the reference venv's python (outside the tree):
    python3 -m venv /work/venv/tok && /work/venv/tok/bin/pip install tokenizers sentencepiece protobuf transformers
    /work/venv/tok/bin/python tools/make_tokenizer_goldens.py unigram   # (re)makes tests/data/vocabs/unigram-xlmr
    /work/venv/tok/bin/python tools/make_tokenizer_goldens.py goldens   # writes tests/data/tokenizer_fast/*.json.gz
    /work/venv/tok/bin/python tools/make_tokenizer_goldens.py components  # small per-component tokenizers + goldens
    /work/venv/ref/bin/python tools/make_tokenizer_goldens.py backend   # TokenizersBackend folders (transformers 5)

`unigram` trains a small SentencePiece unigram model (default nmt_nfkc normalization, so its
tokenizer.json carries a Precompiled charsmap) on generated multilingual text and converts it
with transformers' XLMRobertaConverter, as XLM-R's tokenizer.json was made.

`backend` loads the roberta-base and unigram-xlmr tokenizer.json files with transformers'
AutoTokenizer (no tokenizer_class: its generic `TokenizersBackend`), writes them back with
`save_pretrained` (tests/data/vocabs/backend-<name>/: what a transformers 5 user's folder holds,
tokenizer_class "TokenizersBackend", merges as pairs, Unigram scores re-serialized) and makes the
goldens of that folder as AutoTokenizer loads it (tokenizer_fast/backend-<name>.json.gz).

`goldens` writes, per tokenizer folder, a generated corpus (many scripts, control and format
characters, combining marks, emoji sequences, typed special tokens, very long words, whitespace
runs) and what the library returns: ids, type ids, tokens, char offsets, word ids, special-token
masks, pairs, truncation (longest_first / only_first / only_second, both directions, stride) with
the overflowing windows, padding, and decode.
"""
import gzip
import json
import os
import random
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCABS = os.path.join(ROOT, "tests", "data", "vocabs")
OUT = os.path.join(ROOT, "tests", "data", "tokenizer_fast")

SCRIPTS = {
    "latin": "abcdefghijklmnopqrstuvwxyzàáâãäåæçèéêëìíîïñòóôõöøùúûüýÿßœšžł",
    "LATIN": "ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÄÅÇÉÑÖÜŒŠŽŁİ",
    "cyrillic": "абвгдежзийклмнопрстуфхцчшщъыьэюяёАБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ",
    "greek": "αβγδεζηθικλμνξοπρσςτυφχψωάέήίόύώΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ",
    "arabic": "ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأؤإئة",
    "hebrew": "אבגדהוזחטיכלמנסעפצקרשתךםןףץ",
    "devanagari": "अआइईउऊएऐओऔकखगघङचछजझञटठडढणतथदधनपफबभमयरलवशषसहािीुूेैोौं्",
    "thai": "กขคงจฉชซญดตถทธนบปผพฟภมยรลวศษสหอฮะาำิีึืุูเแโใไ่้๊๋",
    "cjk": "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书",
    "hangul": "가나다라마바사아자차카타파하각난닫랄맘밥삿앙잦찿캌탙팦핳한국어조선글",
    "kana": "あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノ",
    "digits": "0123456789٠١٢٣٤٥٦٧٨٩०१२३४५६७८९０１２３",
    "punct": ".,;:!?'\"()[]{}-_/\\@#$%^&*+=<>|~`«»“”‘’…—–¿¡、。・「」『』【】",
}
CONTROL = [chr(c) for c in list(range(0, 32)) + [127, 0x85, 0x9F]]
FORMAT = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2028", "\u2029", "\u2060", "\ufeff", "\u00ad",
          "\u061c", "\u202a", "\u202e", "\U000e0001", "\ufffd", "\u034f"]
COMBINING = [chr(c) for c in range(0x300, 0x370)] + ["\u0483", "\u05b0", "\u064b", "\u0901", "\u093c", "\u0e31",
                                                     "\u20dd", "\u3099", "\ufe0f", "\ufe0e"]
SPACES = [" ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u2009", "\u1680", "\u202f", " \n ", "\x0b", "\x0c"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇫🇷", "🇯🇵", "1️⃣", "❤️", "🧑🏿‍🚀", "🤷‍♀️", "🙂", "🎉", "🐍", "🦀", "👁️‍🗨️"]


def rand_cp(rng):
    while True:
        r = rng.random()
        if r < 0.5:
            c = rng.randrange(0x80, 0x3000)
        elif r < 0.8:
            c = rng.randrange(0x3000, 0x10000)
        else:
            c = rng.randrange(0x10000, 0x110000)
        if not (0xD800 <= c <= 0xDFFF):
            return chr(c)


def word(rng, script=None):
    script = script or rng.choice(list(SCRIPTS))
    alphabet = SCRIPTS[script]
    n = rng.choice([1, 2, 3, 3, 4, 5, 6, 7, 8, 10, 12])
    return "".join(rng.choice(alphabet) for _ in range(n))


def text(rng, specials):
    parts = []
    n = rng.choice([0, 1, 2, 3, 5, 8, 12, 20, 30])
    home = rng.choice(list(SCRIPTS))
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            parts.append(word(rng, home if rng.random() < 0.7 else None))
        elif r < 0.52:
            parts.append(rng.choice(SCRIPTS["punct"]))
        elif r < 0.57:
            parts.append(rng.choice(CONTROL))
        elif r < 0.62:
            parts.append(rng.choice(FORMAT))
        elif r < 0.67:
            parts.append(word(rng, home) + "".join(rng.choice(COMBINING) for _ in range(rng.randint(1, 3))))
        elif r < 0.72:
            parts.append(rng.choice(EMOJI))
        elif r < 0.77 and specials:
            parts.append(rng.choice(specials))
        elif r < 0.79:
            parts.append(word(rng, home) * rng.randint(8, 25))  # a very long word
        elif r < 0.85:
            parts.append("".join(rand_cp(rng) for _ in range(rng.randint(1, 4))))
        elif r < 0.9:
            parts.append(word(rng, "digits"))
        else:
            parts.append(rng.choice(SPACES))
        sep = rng.random()
        if sep < 0.75:
            parts.append(" ")
        elif sep < 0.85:
            parts.append(rng.choice(SPACES))
    s = "".join(parts)
    if rng.random() < 0.1:
        s = rng.choice(SPACES) + s + rng.choice(SPACES)
    return s


def corpus(seed, count, specials):
    rng = random.Random(seed)
    fixed = ["", " ", "Hello, world!", "The quick brown fox jumps over the lazy dog.", "naïve café", "İstanbul",
             "ǅemal ﬁnance ẞ", "東京タワー는 서울에 없다", "\u00e9\u0301", "a\u0000b", "don't you're I'll",
             "   leading and trailing   ", "x" * 300, "😀😀😀", "\ufeffBOM", "Ω ω ℃ ㎏ ﬀ ①"]
    texts = list(fixed)
    while len(texts) < count:
        texts.append(text(rng, specials))
    return texts


def enc_dict(e, with_overflow=True):
    d = {
        "ids": e.ids,
        "type_ids": e.type_ids,
        "tokens": e.tokens,
        "offsets": [list(o) for o in e.offsets],
        "word_ids": [-1 if w is None else w for w in e.word_ids],
        "special_tokens_mask": e.special_tokens_mask,
    }
    if 0 in e.attention_mask:
        d["attention_mask"] = e.attention_mask
    if with_overflow:
        d["overflowing"] = [enc_dict(o, False) for o in e.overflowing]
    return d


def make_goldens(name, folder, count, seed, raw=None, out_dir=OUT, generator=None, typed=()):
    """`raw`: the tokenizer.json text (default: the folder's file); `folder` is relative to tests/data/vocabs.
    `typed`: more strings the corpus types into the texts besides the added tokens."""
    from tokenizers import Tokenizer

    if raw is None:
        with open(os.path.join(VOCABS, folder, "tokenizer.json"), encoding="utf-8") as f:
            raw = f.read()
    base = Tokenizer.from_str(raw)
    base.no_truncation()
    base.no_padding()
    specials = [t.content for t in base.get_added_tokens_decoder().values()] + list(typed)
    texts = corpus(seed, count, specials)
    rng = random.Random(seed + 1)
    cases = []
    for i, t in enumerate(texts):
        e = base.encode(t)
        c = {"text": t, "single": enc_dict(e, False)}
        c["no_special_ids"] = base.encode(t, add_special_tokens=False).ids
        c["decode"] = base.decode(e.ids, skip_special_tokens=False)
        c["decode_skip"] = base.decode(e.ids, skip_special_tokens=True)
        if i % 3 == 0:
            p = texts[(i * 7 + 1) % len(texts)]
            c["pair_text"] = p
            c["pair"] = enc_dict(base.encode(t, p), False)
        if i % 4 == 1:
            tk = Tokenizer.from_str(raw)
            tk.no_truncation()  # the file's own truncation/padding: transformers overrides them per call
            tk.no_padding()
            strategy = rng.choice(["longest_first", "only_first", "only_second"])
            direction = rng.choice(["right", "left"])
            max_length = rng.choice([6, 8, 12, 16, 24, 40])
            stride = rng.choice([0, 0, 1, 2, 4])
            stride = min(stride, max_length - 5)
            stride = max(stride, 0)
            tk.enable_truncation(max_length, stride=stride, strategy=strategy, direction=direction)
            p = texts[(i * 5 + 3) % len(texts)][:60]  # short texts: every overflowing window is kept
            t = t[:100]
            tr = {"text": t, "max_length": max_length, "stride": stride, "strategy": strategy, "direction": direction,
                  "pair_text": p}
            try:
                tr["pair"] = enc_dict(tk.encode(t, p))
            except BaseException as ex:  # the library refuses (e.g. sequence too short): we must refuse too
                tr["pair_error"] = str(ex)
            if strategy != "only_second":
                try:
                    tr["single"] = enc_dict(tk.encode(t))
                except BaseException as ex:
                    tr["single_error"] = str(ex)
            c["truncation"] = tr
        cases.append(c)
    # Padding: batches padded to the longest, both sides.
    batches = []
    for b in range(20):
        tk = Tokenizer.from_str(raw)
        tk.no_truncation()
        tk.no_padding()
        side = "left" if b % 2 else "right"
        pad_tok = None
        for cand in ("[PAD]", "<pad>"):
            if tk.token_to_id(cand) is not None:
                pad_tok = cand
        tk.enable_padding(direction=side, pad_id=tk.token_to_id(pad_tok), pad_token=pad_tok)
        batch = [texts[(b * 13 + k * 17) % len(texts)] for k in range(4)]
        encs = tk.encode_batch(batch)
        batches.append({"texts": batch, "side": side, "encodings": [enc_dict(e, False) for e in encs]})
    os.makedirs(out_dir, exist_ok=True)
    import tokenizers

    doc = {"tokenizer": folder, "library": "tokenizers " + tokenizers.__version__, "cases": cases,
           "padding": batches}
    if generator:
        doc["generator"] = generator
    with gzip.open(os.path.join(out_dir, name + ".json.gz"), "wt", encoding="utf-8", compresslevel=9) as f:
        json.dump(doc, f, ensure_ascii=False, separators=(",", ":"))
    print(name, len(cases), "cases")


def make_backend(name, count, seed):
    """A tokenizer.json folder as transformers 5's save_pretrained writes it (TokenizersBackend) and
    the goldens of AutoTokenizer on it; its own call is checked equal to its backend's."""
    import shutil
    import tempfile
    import transformers
    from transformers import AutoTokenizer

    src = tempfile.mkdtemp()
    shutil.copy(os.path.join(VOCABS, name, "tokenizer.json"), src)
    with open(os.path.join(src, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 512}, f)  # no tokenizer_class: AutoTokenizer's generic backend
    auto = AutoTokenizer.from_pretrained(src)
    assert type(auto).__name__ == "TokenizersBackend", type(auto).__name__
    out = os.path.join(VOCABS, "backend-" + name)
    shutil.rmtree(out, ignore_errors=True)
    auto.save_pretrained(out)
    auto = AutoTokenizer.from_pretrained(out)
    assert type(auto).__name__ == "TokenizersBackend", type(auto).__name__
    backend = auto.backend_tokenizer
    specials = [t.content for t in backend.get_added_tokens_decoder().values()]
    bad = 0
    for t in corpus(seed, count, specials):
        a = auto(t, return_offsets_mapping=True)
        e = backend.encode(t)
        bad += a["input_ids"] != e.ids or [tuple(o) for o in a["offset_mapping"]] != [tuple(o) for o in e.offsets]
    if bad:
        raise SystemExit(f"{name}: AutoTokenizer and its backend disagree on {bad} texts")
    make_goldens("backend-" + name, "backend-" + name, count, seed, raw=backend.to_str(),
                 generator="transformers " + transformers.__version__ + " AutoTokenizer (TokenizersBackend) of "
                 "save_pretrained's folder")


def make_unigram():
    import sentencepiece as spm
    import tempfile

    rng = random.Random(1234)
    # A made-up lexicon per script, so that the trainer finds recurring pieces.
    lex = {s: [word(rng, s) for _ in range(300)] for s in SCRIPTS if s not in ("punct",)}
    lines = []
    size = 0
    while size < 400_000:
        s = rng.choice(list(lex))
        n = rng.randint(3, 15)
        line = " ".join(rng.choice(lex[s]) if rng.random() < 0.9 else rng.choice(SCRIPTS["punct"]) for _ in range(n))
        if rng.random() < 0.1:
            line += " " + rng.choice(EMOJI) + " ①② ﬁ ＡＢＣ ｶﾀｶﾅ"
        lines.append(line)
        size += len(line.encode())
    tmp = tempfile.mkdtemp()
    txt = os.path.join(tmp, "corpus.txt")
    with open(txt, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    prefix = os.path.join(tmp, "spm")
    spm.SentencePieceTrainer.train(input=txt, model_prefix=prefix, vocab_size=1500, model_type="unigram",
                                   character_coverage=0.9995, seed_sentencepiece_size=100000,
                                   num_threads=1, minloglevel=2)
    from transformers.convert_slow_tokenizer import XLMRobertaConverter

    class Orig:  # what the converter reads of a slow XLMRobertaTokenizer
        vocab_file = prefix + ".model"
        mask_token = "<mask>"
        unk_token = "<unk>"
        bos_token = "<s>"
        eos_token = "</s>"
        pad_token = "<pad>"
        special_tokens_map = {}
        added_tokens_decoder = {}
        legacy = True

        def convert_tokens_to_ids(self, t):
            return {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}[t]

    tok = XLMRobertaConverter(Orig()).converted()
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken("<s>", special=True, normalized=False),
                            AddedToken("<pad>", special=True, normalized=False),
                            AddedToken("</s>", special=True, normalized=False),
                            AddedToken("<unk>", special=True, normalized=False),
                            AddedToken("<mask>", special=True, lstrip=True, normalized=False)])
    out = os.path.join(VOCABS, "unigram-xlmr")
    os.makedirs(out, exist_ok=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"model_max_length": 512, "tokenizer_class": "XLMRobertaTokenizer"}, f)
    print("wrote", out)


def main(argv):
    if len(argv) < 2 or argv[1] not in ("unigram", "goldens", "components", "backend"):
        print(__doc__)
        return 2
    if argv[1] == "unigram":
        make_unigram()
    elif argv[1] == "components":
        make_components()
    elif argv[1] == "backend":
        make_backend("roberta-base", 600, 15)
        make_backend("unigram-xlmr", 1000, 13)
    else:
        make_goldens("bert-base-uncased", "bert-base-uncased", 1500, 11)
        make_goldens("roberta-base", "roberta-base", 1000, 12)
        make_goldens("unigram-xlmr", "unigram-xlmr", 1000, 13)
        make_goldens("all-mpnet-base-v2", "all-mpnet-base-v2", 1000, 14)
    return 0



def make_components():
    """Small WordLevel tokenizers, one per group of components (normalizers, pre-tokenizers,
    decoders), trained on the generated corpus; goldens of encode (ids, tokens, offsets, word ids)
    and of decode over random id sequences."""
    from tokenizers import Tokenizer, Regex, decoders as D, models, normalizers as N, pre_tokenizers as P
    from tokenizers.trainers import WordLevelTrainer

    texts = corpus(21, 400, ["<unk>"])
    configs = {
        "nfkc-lower-whitespace": (N.Sequence([N.NFKC(), N.Lowercase()]), P.Whitespace(), None),
        "nfd-strip-wssplit": (N.Sequence([N.NFD(), N.StripAccents(), N.Strip()]), P.WhitespaceSplit(), D.WordPiece()),
        "nfc-replace-prepend-punct": (N.Sequence([N.NFC(), N.Replace(Regex(r"\d+"), "#"), N.Replace("a", "ä"),
                                                  N.Prepend("▁")]), P.Punctuation(behavior="contiguous"),
                                      D.Sequence([D.Replace("▁", " "), D.Strip(" ", 1, 0)])),
        "nmt-nfkd-digits-char": (N.Sequence([N.Nmt(), N.NFKD()]),
                                 P.Sequence([P.Digits(individual_digits=True), P.CharDelimiterSplit(" ")]),
                                 D.Sequence([D.ByteFallback(), D.Fuse()])),
        "split-behaviors": (None, P.Sequence([P.Split(Regex(r"[,.!?]"), "merged_with_previous"),
                                              P.Split(" ", "merged_with_next"),
                                              P.Split(Regex(r"\d"), "contiguous"),
                                              P.Split("-", "removed"),
                                              P.Split(Regex(r"[A-Z]"), "isolated"),
                                              P.Split(Regex(r"[aeiou]"), "isolated", invert=True),
                                              P.Digits(False), P.Punctuation("merged_with_next")]),
                            D.CTC()),
        "bytelevel-noregex-metaspace-first": (None, P.Sequence([P.Metaspace(prepend_scheme="first", split=False),
                                                                P.ByteLevel(add_prefix_space=True, use_regex=False)]),
                                              D.Sequence([D.ByteLevel(), D.BPEDecoder()])),
    }
    out = os.path.join(VOCABS, "components")
    rng = random.Random(5)
    for name, (norm, pre, dec) in configs.items():
        tok = Tokenizer(models.WordLevel(unk_token="<unk>"))
        if norm:
            tok.normalizer = norm
        tok.pre_tokenizer = pre
        if dec:
            tok.decoder = dec
        trainer = WordLevelTrainer(vocab_size=1500, special_tokens=["<unk>"] + [f"<0x{b:02X}>" for b in range(256)])
        tok.train_from_iterator(texts, trainer)
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        tok.save(os.path.join(d, "tokenizer.json"))
        n = tok.get_vocab_size()
        cases = []
        for t in texts:
            e = tok.encode(t)
            ids = [rng.randrange(n) for _ in range(rng.randint(1, 12))]
            cases.append({"text": t, "single": enc_dict(e, False), "no_special_ids": e.ids,
                          "decode": tok.decode(e.ids, skip_special_tokens=False),
                          "decode_skip": tok.decode(e.ids, skip_special_tokens=True),
                          "random_ids": ids, "random_decode": tok.decode(ids, skip_special_tokens=False)})
        with gzip.open(os.path.join(OUT, "components-" + name + ".json.gz"), "wt", encoding="utf-8") as f:
            json.dump({"tokenizer": "components/" + name, "cases": cases, "padding": []}, f, ensure_ascii=False,
                      separators=(",", ":"))
        print(name, len(cases))


if __name__ == "__main__":
    sys.exit(main(sys.argv))
