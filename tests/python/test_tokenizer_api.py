"""Tokenizer API rules that need no reference library (test_tokenizer_api_ref.py compares the same
features with the real transformers): each assertion is transformers' documented behaviour."""
import json
import os
import shutil
import warnings

import pytest

from conftest import DATA

import bertcpp

UNCASED = os.path.join(DATA, "vocabs", "bert-base-uncased")
CASED = os.path.join(DATA, "vocabs", "bert-base-cased")
TEXTS = ["Hello World, how are you?", "x"]


@pytest.fixture
def unbounded(tmp_path):
    """A vocab.txt folder whose tokenizer_config.json has no model_max_length."""
    shutil.copy(os.path.join(UNCASED, "vocab.txt"), tmp_path)
    (tmp_path / "tokenizer_config.json").write_text("{}")
    return str(tmp_path)


@pytest.mark.parametrize("cls", [bertcpp.BertTokenizer, bertcpp.BertTokenizerFast])
def test_max_length_padding_without_model_max_length_pads_nothing(cls, unbounded):
    tok = cls.from_pretrained(unbounded)
    assert tok.model_max_length == int(1e30)  # transformers' VERY_LARGE_INTEGER
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tok(TEXTS, padding="max_length")["input_ids"] == tok(TEXTS)["input_ids"]


@pytest.mark.parametrize("cls", [bertcpp.BertTokenizer, bertcpp.BertTokenizerFast])
def test_max_length_padding_does_not_truncate(cls):
    tok = cls.from_pretrained(UNCASED)
    full = tok(TEXTS)["input_ids"]
    got = tok(TEXTS, padding="max_length", max_length=4)["input_ids"]
    assert [len(r) for r in got] == [max(4, len(r)) for r in full]
    assert got[0] == full[0]


def test_return_length_slow_is_the_length_before_padding():
    tok = bertcpp.BertTokenizer.from_pretrained(UNCASED)
    for kwargs in ({}, {"return_tensors": "np"}):
        enc = tok(TEXTS, padding=True, return_length=True, **kwargs)
        assert list(enc["length"]) == [len(r) for r in tok(TEXTS)["input_ids"]]


def test_attributes():
    tok = bertcpp.BertTokenizer.from_pretrained(CASED)
    assert tok.do_lower_case is False
    assert tok.max_len_single_sentence == tok.model_max_length - 2
    assert tok.max_len_sentences_pair == tok.model_max_length - 3
    assert tok.ids_to_tokens[tok.cls_token_id] == "[CLS]"
    assert len(tok.ids_to_tokens) == tok.vocab_size


@pytest.mark.parametrize("cls", [bertcpp.BertTokenizer, bertcpp.BertTokenizerFast])
def test_add_tokens_gives_new_ids_to_later_encodes(cls):
    tok = cls.from_pretrained(UNCASED)
    n = len(tok)
    assert tok.add_tokens(["new_tok1", "new_tok2"]) == 2
    assert len(tok) == n + 2 and tok.vocab_size == n
    assert tok("a new_tok2 b new_tok1", add_special_tokens=False)["input_ids"] == \
        [tok.convert_tokens_to_ids("a"), n + 1, tok.convert_tokens_to_ids("b"), n]
    assert tok.add_special_tokens({"additional_special_tokens": ["[E1]"]}) == 1
    assert tok.additional_special_tokens_ids == [n + 2]
    assert tok.decode(tok("x [E1] y")["input_ids"], skip_special_tokens=True) == "x y"


@pytest.mark.parametrize("cls", [bertcpp.BertTokenizer, bertcpp.BertTokenizerFast])
def test_save_pretrained_keeps_case_and_special_tokens(cls, tmp_path):
    tok = cls.from_pretrained(CASED, additional_special_tokens=["[E1]"])
    files = {os.path.basename(f) for f in tok.save_pretrained(tmp_path)}
    assert {"tokenizer_config.json", "special_tokens_map.json", "vocab.txt"} <= files
    again = cls.from_pretrained(tmp_path)
    assert again.do_lower_case is False and again.tokenize("Hello") == tok.tokenize("Hello") == ["Hello"]
    assert again.additional_special_tokens == ["[E1]"]
    assert again("a [E1]")["input_ids"] == tok("a [E1]")["input_ids"]
    with open(tmp_path / "special_tokens_map.json", encoding="utf-8") as f:
        assert json.load(f)["cls_token"] == "[CLS]"


@pytest.mark.parametrize("cls", [bertcpp.BertTokenizer, bertcpp.BertTokenizerFast])
def test_padding_side(cls, tmp_path):
    for name in os.listdir(UNCASED):
        shutil.copy(os.path.join(UNCASED, name), tmp_path)
    config = json.loads((tmp_path / "tokenizer_config.json").read_text())
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(dict(config, padding_side="left")))
    pad = cls.from_pretrained(UNCASED).pad_token_id
    for tok in (cls.from_pretrained(tmp_path), cls.from_pretrained(UNCASED, padding_side="left")):
        assert tok.padding_side == "left"
        assert tok(TEXTS, padding=True)["input_ids"][1][0] == pad
        assert tok(TEXTS, padding=True, padding_side="right")["input_ids"][1][-1] == pad
    tok = cls.from_pretrained(UNCASED)
    tok.padding_side = "left"
    assert tok(TEXTS, padding=True, return_tensors="np")["attention_mask"][1, 0] == 0


def test_fast_alignment_and_windows():
    tok = bertcpp.BertTokenizerFast.from_pretrained(UNCASED)
    enc = tok("Hello World, unaffable")
    assert enc.word_ids() == [None, 0, 1, 2, 3, 3, 3, None]
    assert enc.word_to_tokens(3) == (4, 7) and enc.token_to_chars(1) == (0, 5) and enc.char_to_token(7) == 2
    question, context = "Who?", "one two three four five six seven eight nine ten"
    win = tok(question, context, max_length=10, truncation="only_second", stride=2, return_overflowing_tokens=True)
    assert win["overflow_to_sample_mapping"] == [0] * len(win["input_ids"]) and len(win["input_ids"]) > 1
    contexts = [[t for t, s in zip(win.tokens(i), win.sequence_ids(i)) if s == 1] for i in range(len(win["input_ids"]))]
    for before, after in zip(contexts, contexts[1:]):
        assert before[-2:] == after[:2]  # stride tokens of overlap
    # the slow tokenizer: one row, the cut context tokens (plus the stride) as overflowing_tokens
    slow = bertcpp.BertTokenizer.from_pretrained(UNCASED)(question, context, max_length=10, truncation="only_second",
                                                          stride=2, return_overflowing_tokens=True)
    assert slow["input_ids"] == win["input_ids"][0]
    assert slow["num_truncated_tokens"] == len(tok.tokenize(question + " " + context)) + 3 - 10
    assert len(slow["overflowing_tokens"]) == slow["num_truncated_tokens"] + 2
