"""The tokenizer API against the real transformers (run when it is importable, e.g. with
PYTHONPATH=build/python /work/venv/ref/bin/python -m pytest tests/python): attributes, added tokens,
the fast tokenizers' alignment maps, QA windows with stride, padding and truncation rules,
save_pretrained round trips. transformers 5: BertTokenizer is the fast one, BertTokenizerLegacy the
slow (Python) one."""
import json
import os
import shutil
import warnings

import pytest

from conftest import DATA

import bertcpp

transformers = pytest.importorskip("transformers", reason="the real transformers is not installed (reference venv)")
try:
    from transformers.models.bert.tokenization_bert_legacy import BertTokenizerLegacy as RefSlow
except ImportError:  # transformers 4: BertTokenizer is the slow one
    RefSlow = transformers.BertTokenizer
RefFast = transformers.BertTokenizerFast

UNCASED = os.path.join(DATA, "vocabs", "bert-base-uncased")  # vocab.txt + tokenizer.json
CASED = os.path.join(DATA, "vocabs", "bert-base-cased")      # vocab.txt only
TEXTS = ["Hello World, how are you?", "HuggingFace's tokenizers are fast!", "naïve café 東京 don't", "x"]
PAIRS = ["What is it?", "An example sentence with several words in it", "?", "a b c"]
QA_Q = ["What is the capital of France?", "Who wrote it?"]
QA_C = ["Paris is the capital and most populous city of France, with an estimated population of "
        "2,102,650 residents in January 2023 in an area of more than 105 km2. " * 3,
        "It was written by somebody a long time ago."]
# (ours, reference, folder): slow over vocab.txt, fast over tokenizer.json, fast converted from vocab.txt
KINDS = [
    pytest.param(bertcpp.BertTokenizer, RefSlow, UNCASED, id="slow-uncased"),
    pytest.param(bertcpp.BertTokenizer, RefSlow, CASED, id="slow-cased"),
    pytest.param(bertcpp.BertTokenizerFast, RefFast, UNCASED, id="fast-uncased"),
    pytest.param(bertcpp.BertTokenizerFast, RefFast, CASED, id="fast-cased-converted"),
]
FAST = [k for k in KINDS if "fast" in k.id]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _same(a, b, keys=("input_ids", "token_type_ids", "attention_mask")):
    for k in keys:
        if k in b:
            assert a[k] == b[k], (k, a[k], b[k])


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_attributes(ours, ref, folder):
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    assert a.is_fast == b.is_fast
    assert a.do_lower_case == b.do_lower_case
    assert a.model_max_length == b.model_max_length
    assert a.max_len_single_sentence == b.max_len_single_sentence
    assert a.max_len_sentences_pair == b.max_len_sentences_pair
    assert (len(a), a.vocab_size) == (len(b), b.vocab_size)
    if hasattr(b, "ids_to_tokens"):
        assert a.ids_to_tokens == b.ids_to_tokens
    _same(a(TEXTS), b(TEXTS))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_add_tokens_changes_later_encodes(ours, ref, folder, tmp_path):
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    texts = ["hello world, new_tok1 and my_new-tok2here", "[X] then new_tok1 [X]x", "short"]
    assert a.add_tokens(["new_tok1", "my_new-tok2", "hello"]) == b.add_tokens(["new_tok1", "my_new-tok2", "hello"])
    assert (len(a), a.vocab_size) == (len(b), b.vocab_size)
    _same(a(texts), b(texts))
    assert a.add_special_tokens({"additional_special_tokens": ["[X]"]}) == \
        b.add_special_tokens({"additional_special_tokens": ["[X]"]})
    assert a.all_special_tokens == b.all_special_tokens
    assert a.get_added_vocab() == b.get_added_vocab()
    _same(a(texts), b(texts))
    assert a.add_tokens("[NEW]", special_tokens=True) == b.add_tokens("[NEW]", special_tokens=True)
    _same(a("x [NEW] y"), b("x [NEW] y"))
    # What was added survives save_pretrained, for both libraries.
    a.save_pretrained(tmp_path)
    _same(ours.from_pretrained(tmp_path)(texts), b(texts))
    _same(ref.from_pretrained(tmp_path)(texts), b(texts))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_special_token_arguments(ours, ref, folder):
    texts = ["Hello World, [X] and [Y]here", "unaffable [X]x", "short"]
    a = ours.from_pretrained(folder, additional_special_tokens=["[X]", "[Y]"])
    b = ref.from_pretrained(folder, additional_special_tokens=["[X]", "[Y]"])
    assert a.all_special_tokens == b.all_special_tokens
    assert a.additional_special_tokens_ids == b.convert_tokens_to_ids(["[X]", "[Y]"])
    _same(a(texts), b(texts))
    assert a.decode(a(texts[0])["input_ids"], skip_special_tokens=True) == \
        b.decode(b(texts[0])["input_ids"], skip_special_tokens=True)
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    a.add_special_tokens({"cls_token": "[BOS]"})
    b.add_special_tokens({"cls_token": "[BOS]"})
    assert a.cls_token == b.cls_token
    _same(a("x y"), b("x y"))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_do_basic_tokenize_false(ours, ref, folder):
    # Lower-case text: transformers 5's slow tokenizer no longer lower-cases before WordPiece
    # without the basic tokenizer; bertcpp keeps transformers 4's (and the fast one's) lower-casing.
    texts = ["unaffable [x]x don't", "hello,world"] + ([] if "uncased" in folder else ["Hello World!"])
    a, b = ours.from_pretrained(folder, do_basic_tokenize=False), ref.from_pretrained(folder, do_basic_tokenize=False)
    assert a.do_basic_tokenize is False
    assert [a.tokenize(t) for t in texts] == [b.tokenize(t) for t in texts]
    _same(a(texts), b(texts))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_padding_side(ours, ref, folder, tmp_path):
    a, b = ours.from_pretrained(folder, padding_side="left"), ref.from_pretrained(folder, padding_side="left")
    assert a.padding_side == b.padding_side == "left"
    _same(a(TEXTS, padding=True), b(TEXTS, padding=True))
    assert a(TEXTS, padding=True, return_tensors="np")["input_ids"].tolist() == \
        b(TEXTS, padding=True, return_tensors="np")["input_ids"].tolist()
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    a.padding_side = b.padding_side = "left"
    _same(a(TEXTS, padding="max_length", max_length=16), b(TEXTS, padding="max_length", max_length=16))
    _same(a(TEXTS, padding=True, padding_side="right"), b(TEXTS, padding=True, padding_side="right"))
    _same(a.pad({"input_ids": [[1, 2, 3], [4]]}), b.pad({"input_ids": [[1, 2, 3], [4]]}))
    # ... and from tokenizer_config.json
    for name in os.listdir(folder):
        shutil.copy(os.path.join(folder, name), tmp_path)
    with open(os.path.join(folder, "tokenizer_config.json"), encoding="utf-8") as f:
        config = json.load(f)
    with open(tmp_path / "tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(dict(config, padding_side="left"), f)
    a, b = ours.from_pretrained(tmp_path), ref.from_pretrained(tmp_path)
    assert a.padding_side == b.padding_side == "left"
    _same(a(TEXTS, padding=True), b(TEXTS, padding=True))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_padding_and_truncation_rules(ours, ref, folder, tmp_path):
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    # padding='max_length' with max_length and no truncation: padded, never truncated
    _same(a(TEXTS, padding="max_length", max_length=6), b(TEXTS, padding="max_length", max_length=6))
    _same(a(TEXTS, TEXTS, padding="max_length", max_length=9), b(TEXTS, TEXTS, padding="max_length", max_length=9))
    # return_length: the slow tokenizer reports lengths before padding, the fast one padded lengths
    for kwargs in ({"padding": True}, {"padding": "max_length", "max_length": 20}, {}):
        assert a(TEXTS, return_length=True, **kwargs)["length"] == b(TEXTS, return_length=True, **kwargs)["length"]
        got = a(TEXTS[:1] * 2, return_length=True, return_tensors="np", **kwargs)["length"].tolist()
        assert got == b(TEXTS[:1] * 2, return_length=True, return_tensors="np", **kwargs)["length"].tolist()
    # no model_max_length: padding='max_length' pads nothing (transformers warns), no engine error
    shutil.copy(os.path.join(folder, "vocab.txt"), tmp_path)
    with open(tmp_path / "tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump({"do_lower_case": b.do_lower_case}, f)
    a, b = ours.from_pretrained(tmp_path), ref.from_pretrained(tmp_path)
    assert a.model_max_length == b.model_max_length
    _same(a(TEXTS, padding="max_length"), b(TEXTS, padding="max_length"), keys=("input_ids", "attention_mask"))


@pytest.mark.parametrize("ours,ref,folder", KINDS)
def test_save_pretrained_reloads_the_same_tokenizer(ours, ref, folder, tmp_path):
    a, b = ours.from_pretrained(folder, strip_accents=False), ref.from_pretrained(folder, strip_accents=False)
    _same(a(TEXTS), b(TEXTS))
    out = tmp_path / "saved"
    files = a.save_pretrained(out)
    assert {"tokenizer_config.json", "special_tokens_map.json", "vocab.txt"} <= {os.path.basename(f) for f in files}
    with open(out / "tokenizer_config.json", encoding="utf-8") as f:
        saved = json.load(f)
    assert (saved["do_lower_case"], saved["strip_accents"], saved["tokenize_chinese_chars"]) == \
        (b.do_lower_case, False, True)
    for again in (ours.from_pretrained(out), ref.from_pretrained(out)):
        assert again.do_lower_case == b.do_lower_case
        _same(again(TEXTS), b(TEXTS))
        assert [again.tokenize(t) for t in TEXTS] == [b.tokenize(t) for t in TEXTS]


@pytest.mark.parametrize("ours,ref,folder", FAST)
def test_alignment_maps(ours, ref, folder):
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    ea, eb = a(TEXTS, PAIRS), b(TEXTS, PAIRS)
    assert ea.is_fast and eb.is_fast
    for i, (t, p) in enumerate(zip(TEXTS, PAIRS)):
        assert ea.word_ids(i) == eb.word_ids(i)
        assert ea.sequence_ids(i) == eb.sequence_ids(i)
        assert ea.tokens(i) == eb.tokens(i)
        for k in range(len(ea["input_ids"][i])):
            assert ea.token_to_chars(i, k) == eb.token_to_chars(i, k), (i, k)
            assert ea.token_to_word(i, k) == eb.token_to_word(i, k), (i, k)
            assert ea.token_to_sequence(i, k) == eb.token_to_sequence(i, k), (i, k)
        for seq, text in ((0, t), (1, p)):
            for c in range(len(text) + 1):
                assert ea.char_to_token(i, c, sequence_index=seq) == eb.char_to_token(i, c, sequence_index=seq)
                assert ea.char_to_word(i, c, sequence_index=seq) == eb.char_to_word(i, c, sequence_index=seq)
            for w in range(len(text.split()) * 3):
                assert ea.word_to_tokens(i, w, sequence_index=seq) == eb.word_to_tokens(i, w, sequence_index=seq)
                if eb.word_to_tokens(i, w, sequence_index=seq) is not None:  # transformers: TypeError otherwise
                    assert ea.word_to_chars(i, w, sequence_index=seq) == eb.word_to_chars(i, w, sequence_index=seq)
    one_a, one_b = a(TEXTS[0]), b(TEXTS[0])
    assert one_a.word_ids() == one_b.word_ids()
    assert one_a.token_to_chars(3) == one_b.token_to_chars(3)
    assert one_a.char_to_token(7) == one_b.char_to_token(7)
    assert one_a.word_to_tokens(1) == one_b.word_to_tokens(1)
    assert one_a[0].word_ids == one_b[0].word_ids and one_a[0].offsets == one_b[0].offsets


def test_slow_tokenizer_refuses_alignment_maps_as_transformers_does():
    a, b = bertcpp.BertTokenizer.from_pretrained(UNCASED), RefSlow.from_pretrained(UNCASED)
    for enc in (a(TEXTS), b(TEXTS)):
        assert not enc.is_fast
        with pytest.raises(ValueError, match="is not available when using"):
            enc.word_ids(0)


@pytest.mark.parametrize("ours,ref,folder", FAST)
@pytest.mark.parametrize("padding", ["max_length", True, False])
def test_qa_windows_with_stride(ours, ref, folder, padding):
    """The question-answering preprocessing of transformers' docs (course chapter 7 / run_qa.py)."""
    a, b = ours.from_pretrained(folder), ref.from_pretrained(folder)
    kwargs = dict(max_length=48, truncation="only_second", stride=12, return_overflowing_tokens=True,
                  return_offsets_mapping=True, padding=padding)
    ra, rb = a(QA_Q, QA_C, **kwargs), b(QA_Q, QA_C, **kwargs)
    assert sorted(ra.keys()) == sorted(rb.keys())
    for k in rb:
        assert ra[k] == rb[k], k
    assert len(rb["input_ids"]) > len(QA_Q)  # several windows per long context
    for i in range(len(rb["input_ids"])):
        assert ra.sequence_ids(i) == rb.sequence_ids(i)
    # one question: the windows come back as a batch
    sa, sb = a(QA_Q[0], QA_C[0], **kwargs), b(QA_Q[0], QA_C[0], **kwargs)
    for k in sb:
        assert sa[k] == sb[k], k
    if padding is not False:
        ta, tb = a(QA_Q, QA_C, return_tensors="np", **kwargs), b(QA_Q, QA_C, return_tensors="np", **kwargs)
        for k in tb:
            assert ta[k].tolist() == tb[k].tolist(), k


@pytest.mark.parametrize("ours,ref,folder", FAST)
def test_ner_label_alignment_with_word_ids(ours, ref, folder):
    """The token-classification preprocessing of transformers' docs (label of the first sub-token
    of each word, -100 elsewhere), on words given with is_split_into_words=True."""
    words = [["EU", "rejects", "German", "call", "to", "boycott", "British", "lamb", "."],
             ["Peter", "Blackburn", "unaffable", "Zürich"]]
    labels = [[3, 0, 7, 0, 0, 0, 7, 0, 0], [1, 2, 0, 5]]

    def align(tok):
        enc = tok(words, truncation=True, is_split_into_words=True)
        out = []
        for i, lab in enumerate(labels):
            previous, row = None, []
            for w in enc.word_ids(batch_index=i):
                row.append(-100 if w is None or w == previous else lab[w])
                previous = w
            out.append(row)
        return enc, out

    (ea, la), (eb, lb) = align(ours.from_pretrained(folder)), align(ref.from_pretrained(folder))
    _same(ea, eb)
    assert la == lb


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("trunc,pair,n_text,n_pair", [(True, False, 3, 1), ("only_first", True, 3, 1),
                                                      ("only_second", True, 1, 8)])
def test_slow_overflowing_tokens_with_stride(side, trunc, pair, n_text, n_pair):
    """The slow tokenizer keeps one row per input and returns the cut tokens (plus `stride` kept
    ones) as overflowing_tokens / num_truncated_tokens, only for the inputs that overflowed."""
    a, b = bertcpp.BertTokenizer.from_pretrained(UNCASED), RefSlow.from_pretrained(UNCASED)
    a.truncation_side = b.truncation_side = side
    texts = [t * n_text for t in TEXTS[:3]]  # all overflow: a mixed batch trips transformers' own pad() assert
    kwargs = dict(truncation=trunc, max_length=14, stride=3, return_overflowing_tokens=True)
    pairs = [p * n_pair for p in PAIRS] if pair else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pairs = pairs[:3] if pair else None
        cases = [(texts, pairs), (texts[0], pairs[0] if pair else None), (TEXTS[3], PAIRS[3] if pair else None)]
        for text, text_pair in cases:
            ra, rb = a(text, text_pair, **kwargs), b(text, text_pair, **kwargs)
            # transformers 5's BertTokenizerLegacy drops token_type_ids altogether (not an overflow matter)
            assert sorted(set(ra.keys()) - {"token_type_ids"}) == sorted(rb.keys()), (text, sorted(rb.keys()))
            for k in rb:
                assert ra[k] == rb[k], k
        assert "overflowing_tokens" in b(texts, pairs, **kwargs)
    if pair:  # longest_first cannot say which sequence overflowed: the same ValueError
        for tok in (a, b):
            with pytest.raises(ValueError, match="Not possible to return overflowing tokens for pair"):
                tok(texts[0], pairs[0], **dict(kwargs, truncation="longest_first"))
        ta, tb = a(texts, pairs, padding=True, return_tensors="np", **kwargs), \
            b(texts, pairs, padding=True, return_tensors="np", **kwargs)
        assert sorted(set(ta.keys()) - {"token_type_ids"}) == sorted(tb.keys())
