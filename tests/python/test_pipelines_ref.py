"""pipeline() against transformers' pipelines: tests/data/pipelines/expected.json, written by
tools/make_pipeline_expected.py (reference venv) on the same models (head_folders.py builds the
token-classification one)."""
import json
import os

import numpy as np
import pytest

import head_folders
from conftest import CLASSIFIER, DATA, MODELS, PRETRAINING, TINY_BERT

import bertcpp

with open(os.path.join(DATA, "pipelines", "expected.json"), encoding="utf-8") as _f:
    CASES = json.load(_f)["cases"]
TOL = 1e-5


def _same(got, ref, where="output"):
    """Same structure, same types and keys, same strings/ints, floats within TOL."""
    assert type(got) is type(ref) or (isinstance(ref, float) and isinstance(got, float)), (where, got, ref)
    if isinstance(ref, dict):
        assert set(got) == set(ref), (where, sorted(got), sorted(ref))
        for k in ref:
            _same(got[k], ref[k], f"{where}.{k}")
    elif isinstance(ref, list):
        assert len(got) == len(ref), (where, got, ref)
        for i, (g, r) in enumerate(zip(got, ref)):
            _same(g, r, f"{where}[{i}]")
    elif isinstance(ref, float):
        assert abs(got - ref) <= TOL * max(1.0, abs(ref)), (where, got, ref)
    else:
        assert got == ref, (where, got, ref)


def _run(pipe, case):
    c = CASES[case]
    _same(pipe(*c["args"], **c["kwargs"]), c["output"], case)


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("clf_")])
def test_text_classification(case):
    _run(bertcpp.pipeline("text-classification", model=CLASSIFIER), case)


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("fill_")])
def test_fill_mask(case):
    _run(bertcpp.pipeline("fill-mask", model=PRETRAINING), case)


@pytest.fixture(scope="module")
def ner_dir(tmp_path_factory):
    return head_folders.make(MODELS, str(tmp_path_factory.mktemp("ner") / "ner"), "token_classification")


@pytest.mark.parametrize("case", [c for c in CASES if c.startswith("ner_")])
def test_token_classification(ner_dir, case):
    _run(bertcpp.pipeline("token-classification", model=ner_dir), case)


def test_model_and_tokenizer_objects():
    model = bertcpp.BertForSequenceClassification.from_pretrained(CLASSIFIER)
    tok = bertcpp.BertTokenizer.from_pretrained(CLASSIFIER)
    _run(bertcpp.pipeline("text-classification", model=model, tokenizer=tok), "clf_single")
    _run(bertcpp.pipeline("sentiment-analysis", model=model, top_k=None), "clf_top_k_none")


def test_feature_extraction_truncation():
    fe = bertcpp.pipeline("feature-extraction", model=TINY_BERT)
    long_text = " ".join(["word"] * 600)
    assert list(np.asarray(fe(long_text, truncation=True)).shape) == CASES["fe_truncation"]["shape"]
    with pytest.raises(bertcpp.BertcppError):
        fe(long_text)  # 602 tokens > 512 positions, as transformers fails without truncation
