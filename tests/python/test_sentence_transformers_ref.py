"""SentenceTransformer against the real sentence-transformers: expected outputs in
tests/data/sentence_transformers/expected.json, written by tools/make_st_expected.py (run with the
reference venv) on the folders of st_folders.py, which these tests build the same way."""
import json
import os

import numpy as np
import pytest

import st_folders
from conftest import DATA, MODELS

import bertcpp

with open(os.path.join(DATA, "sentence_transformers", "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
TEXTS = EXPECTED["texts"]
CASES = EXPECTED["cases"]
TOL = 1e-5


def _ref(case):
    c = CASES[case] if isinstance(case, str) else case
    if isinstance(c, list):
        return [_ref(x) for x in c]
    return np.asarray(c["data"], dtype=c["dtype"]).reshape(c["shape"])


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("st")
    return lambda variant: st_folders.make(MODELS, str(base / variant), variant)


@pytest.fixture(scope="module")
def model(folders):
    return bertcpp.SentenceTransformer(folders("mean-normalize-prompts"))


def _close(got, case, tol=TOL):
    ref = _ref(case)
    assert got.shape == ref.shape and got.dtype == ref.dtype, (case, got.shape, got.dtype, ref.shape, ref.dtype)
    assert float(np.max(np.abs(got.astype(np.float64) - ref))) <= tol, case


def test_encode_and_single_string(model):
    _close(model.encode(TEXTS), "encode")
    _close(model.encode(TEXTS[0]), "encode_single")


def test_prompts(model, folders):
    assert model.prompts == {"query": "query: ", "passage": "passage: "}
    _close(model.encode(TEXTS, prompt_name="query"), "prompt_name_query")
    _close(model.encode(TEXTS, prompt="Represent this: "), "prompt")
    with pytest.raises(ValueError, match="nope"):
        model.encode(TEXTS, prompt_name="nope")
    d = bertcpp.SentenceTransformer(folders("default-prompt"))
    assert d.default_prompt_name == "query"
    _close(d.encode(TEXTS), "default_prompt")
    _close(d.encode(TEXTS, prompt_name=""), "default_prompt_overridden")


def test_truncate_dim_then_normalize(model, folders):
    _close(model.encode(TEXTS, truncate_dim=8), "truncate_dim_8")
    _close(model.encode(TEXTS, truncate_dim=8, normalize_embeddings=True), "truncate_dim_8_normalize")
    t = bertcpp.SentenceTransformer(folders("mean-normalize-prompts"), truncate_dim=8)
    assert t.get_sentence_embedding_dimension() == CASES["dimension_truncate_8"]


@pytest.mark.parametrize("precision", ["int8", "uint8", "binary", "ubinary"])
def test_precision(model, precision):
    # Buckets are integers: floor() near a bucket edge may differ by one between float paths.
    got = model.encode(TEXTS, precision=precision)
    ref = _ref(f"precision_{precision}")
    assert got.shape == ref.shape and got.dtype == ref.dtype
    tol = 0 if precision.endswith("binary") else 1
    assert int(np.max(np.abs(got.astype(np.int64) - ref.astype(np.int64)))) <= tol
    if tol:
        assert np.mean(got == ref) >= 0.95


def test_token_embeddings_and_call(model):
    got = model.encode(TEXTS, output_value="token_embeddings")
    ref = _ref("token_embeddings")
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and float(np.max(np.abs(g - r))) <= TOL
    _close(model(model.tokenize(TEXTS))["sentence_embedding"], "call_sentence_embedding")


def test_cos_sim(model):
    emb = model.encode(TEXTS)
    _close(bertcpp.util.cos_sim(emb, emb), "cos_sim")


def test_max_seq_length_settable(folders):
    m = bertcpp.SentenceTransformer(folders("mean-normalize-prompts"))
    m.max_seq_length = 5
    assert m.max_seq_length == 5
    _close(m.encode(TEXTS), "max_seq_length_5")
    with pytest.raises(ValueError, match="max_seq_length"):
        m.max_seq_length = 100000


@pytest.mark.parametrize("mode", ["cls", "mean", "max", "mean_sqrt_len", "weightedmean", "lasttoken"])
def test_every_pooling_mode(folders, mode):
    m = bertcpp.SentenceTransformer(folders(f"pool-{mode}"))
    assert m.pooling == mode
    _close(m.encode(TEXTS), f"pool_{mode}")
