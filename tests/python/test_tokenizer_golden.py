"""Tokenizer goldens (made by transformers' BertTokenizer) through the Python API: every case."""
import glob
import json
import os

import numpy as np
import pytest

from conftest import DATA

import bertcpp

GOLDEN_FILES = sorted(glob.glob(os.path.join(DATA, "tokenizer", "*.json")))


def _load(path):
    with open(path, encoding="utf-8") as f:
        golden = json.load(f)
    vocab = os.path.join(DATA, "tokenizer", golden["vocab"])
    if not os.path.exists(vocab):  # tests/data keeps vocabs/ beside tokenizer/
        vocab = os.path.join(DATA, golden["vocab"])
    tok = bertcpp.BertTokenizer(vocab, **golden["options"])
    return golden, tok


@pytest.fixture(scope="module", params=GOLDEN_FILES, ids=lambda p: os.path.basename(p)[:-5])
def golden(request):
    return _load(request.param)


def test_golden_files_present():
    assert len(GOLDEN_FILES) >= 6


def test_cases_tokens_and_ids(golden):
    g, tok = golden
    bad = []
    for i, case in enumerate(g["cases"]):
        tokens = tok.tokenize(case["text"])
        ids = tok(case["text"])["input_ids"]
        if tokens != case["tokens"] or ids != case["input_ids"]:
            bad.append((i, case["text"][:40], tokens[:8], case["tokens"][:8]))
    assert not bad, f"{len(bad)}/{len(g['cases'])} cases differ, first: {bad[:3]}"


def test_cases_as_one_batch(golden):
    g, tok = golden
    texts = [c["text"] for c in g["cases"]]
    enc = tok(texts)
    assert enc["input_ids"] == [c["input_ids"] for c in g["cases"]]
    assert enc["attention_mask"] == [[1] * len(c["input_ids"]) for c in g["cases"]]
    assert enc["token_type_ids"] == [[0] * len(c["input_ids"]) for c in g["cases"]]


def test_cases_encode_and_convert(golden):
    g, tok = golden
    for case in g["cases"][:60]:
        assert tok.encode(case["text"]) == case["input_ids"]
        assert tok.convert_tokens_to_ids(case["tokens"]) == case["input_ids"][1:-1]
        assert tok.convert_ids_to_tokens(case["input_ids"][1:-1]) == case["tokens"]


def test_pairs(golden):
    g, tok = golden
    bad = []
    for i, p in enumerate(g["pairs"]):
        enc = tok(p["text_a"], p["text_b"], max_length=p["max_length"], truncation=p["truncation"],
                  padding=p["padding"])
        got = (enc["input_ids"], enc["token_type_ids"], enc["attention_mask"])
        if got != (p["input_ids"], p["token_type_ids"], p["attention_mask"]):
            bad.append(i)
    assert not bad, f"pairs {bad} differ"


def test_pairs_batched_numpy(golden):
    g, tok = golden
    by_len = {}
    for p in g["pairs"]:
        by_len.setdefault((p["max_length"], str(p["truncation"]), p["padding"]), []).append(p)
    for (max_length, truncation, padding), group in by_len.items():
        enc = tok([p["text_a"] for p in group], [p["text_b"] for p in group], max_length=max_length,
                  truncation=group[0]["truncation"], padding=padding, return_tensors="np")
        for key in ("input_ids", "token_type_ids", "attention_mask"):
            assert enc[key].dtype == np.int64
            np.testing.assert_array_equal(enc[key], np.array([p[key] for p in group]))


def test_truncation(golden):
    g, tok = golden
    bad = []
    for i, t in enumerate(g["truncation"]):
        if tok(t["text"], max_length=t["max_length"], truncation=True)["input_ids"] != t["input_ids"]:
            bad.append(i)
    assert not bad, f"truncation cases {bad} differ"
