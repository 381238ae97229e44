"""SentencePiece-only folders through the Python tokenizer: loaded, saved with save_pretrained and
reloaded (by bertcpp, and by transformers when it is installed) give the ids transformers 5.24's
AutoTokenizer gave for the original folder (tests/data/sentencepiece/<name>.json.gz)."""
import gzip
import importlib.util
import json
import os

import pytest

import bertcpp

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("BERTCPP_TEST_DATA") or os.path.join(HERE, "..", "data")
SP = os.path.join(DATA, "sentencepiece")
FOLDERS = ["t5-unigram", "t5-bpe-extra5", "xlnet-unigram", "xlmr-unigram", "albert-unigram", "deberta-v2-unigram"]
N_CASES = 150


def golden(name):
    with gzip.open(os.path.join(SP, name + ".json.gz"), "rt", encoding="utf-8") as f:
        return json.load(f)["cases"][:N_CASES]


def check(tok, cases, who, pair_ids=None):
    """Single texts through the tokenizer call; pairs through `pair_ids` (default the call too).
    The goldens' pairs are the Rust backend's encode(text, pair): transformers' Python call drops an
    empty or blank pair text, so its reload is checked through its backend_tokenizer."""
    pair_ids = pair_ids or (lambda t, p: tok(t, p)["input_ids"])
    bad = []
    for i, c in enumerate(cases):
        got = tok(c["text"])["input_ids"]
        if list(got) != c["single"]["ids"]:
            bad.append((i, c["text"], list(got), c["single"]["ids"]))
        if "pair" in c and isinstance(c["pair"], dict) and "ids" in c["pair"]:
            got = pair_ids(c["text"], c["pair_text"])
            if list(got) != c["pair"]["ids"]:
                bad.append((i, "pair", list(got), c["pair"]["ids"]))
    assert not bad, f"{who}: {len(bad)} of {len(cases)} cases differ, first: {bad[0]}"


def saved(name, folder):
    cases = golden(name)
    tok = bertcpp.AutoTokenizer.from_pretrained(os.path.join(SP, name))
    check(tok, cases, "loaded")
    written = tok.save_pretrained(folder)
    assert os.path.isfile(os.path.join(folder, "tokenizer.json")), written
    assert not os.path.isfile(os.path.join(folder, "vocab.txt")), written  # not a WordPiece vocabulary
    return cases


@pytest.mark.parametrize("name", FOLDERS)
def test_save_pretrained_reloads_in_bertcpp(name, tmp_path):
    cases = saved(name, str(tmp_path))
    check(bertcpp.AutoTokenizer.from_pretrained(str(tmp_path)), cases, "bertcpp reload")


@pytest.mark.skipif(importlib.util.find_spec("transformers") is None, reason="transformers is not installed")
@pytest.mark.parametrize("name", FOLDERS)
def test_save_pretrained_reloads_in_transformers(name, tmp_path):
    import transformers

    cases = saved(name, str(tmp_path))
    hf = transformers.AutoTokenizer.from_pretrained(str(tmp_path))
    check(hf, cases, "transformers reload", lambda t, p: hf.backend_tokenizer.encode(t, p).ids)
