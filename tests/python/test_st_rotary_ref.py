"""SentenceTransformer on the rotary and ALiBi families (NomicBERT, GTE and its remote-code "new", JinaBERT) against the real sentence-transformers:
expected outputs in tests/data/sentence_transformers/rotary_expected.json, written by
tools/make_st_rotary_expected.py (reference venv; NomicBERT through trust_remote_code with Nomic's own
modeling file) on the ROTARY_VARIANTS folders of st_folders.py, which these tests build the same way:
the golden checkpoints with Pooling, Normalize and the model cards' prompts in
config_sentence_transformers.json."""
import json
import os

import numpy as np
import pytest

import st_folders
from conftest import DATA, MODELS

import bertcpp

with open(os.path.join(DATA, "sentence_transformers", "rotary_expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
TEXTS = EXPECTED["texts"]
TOL = 1e-5
VARIANTS = sorted(st_folders.ROTARY_VARIANTS)


def _ref(c):
    if isinstance(c, list):
        return [_ref(x) for x in c]
    return np.asarray(c["data"], dtype=c["dtype"]).reshape(c["shape"])


def _close(got, ref, what):
    assert got.shape == ref.shape and got.dtype == ref.dtype, (what, got.shape, got.dtype, ref.shape, ref.dtype)
    assert float(np.max(np.abs(got.astype(np.float64) - ref))) <= TOL, what


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request, tmp_path_factory):
    name = request.param
    folder = st_folders.make(MODELS, str(tmp_path_factory.mktemp("st-rotary") / name), name)
    return name, bertcpp.SentenceTransformer(folder), EXPECTED["variants"][name]


def test_prompts_read_from_the_folder(variant):
    _, m, exp = variant
    assert m.prompts == exp["prompts"]
    assert m.default_prompt_name == exp["default_prompt_name"]


def test_encode_matches_sentence_transformers(variant):
    name, m, exp = variant
    cases = exp["cases"]
    # With a default prompt (GTE's query instruction) plain encode() prepends it, as the library does.
    _close(m.encode(TEXTS), _ref(cases["encode"]), f"{name} encode")
    _close(m.encode(TEXTS[0]), _ref(cases["encode_single"]), f"{name} encode_single")
    _close(m.encode(TEXTS, prompt="Represent this: "), _ref(cases["prompt"]), f"{name} prompt")


def test_every_prompt_name(variant):
    name, m, exp = variant
    for prompt in exp["prompts"]:
        _close(m.encode(TEXTS, prompt_name=prompt), _ref(exp["cases"][f"prompt_name_{prompt}"]), f"{name} {prompt}")
    with pytest.raises(ValueError, match="nope"):
        m.encode(TEXTS, prompt_name="nope")


def test_matryoshka_truncation(variant):
    name, m, exp = variant
    cases = exp["cases"]
    _close(m.encode(TEXTS, truncate_dim=16), _ref(cases["truncate_dim_16"]), f"{name} truncate_dim 16")
    _close(m.encode(TEXTS, truncate_dim=16, normalize_embeddings=True), _ref(cases["truncate_dim_16_normalize"]),
           f"{name} truncate_dim 16 + normalize")


def test_token_embeddings(variant):
    name, m, exp = variant
    got = m.encode(TEXTS, output_value="token_embeddings")
    ref = _ref(exp["cases"]["token_embeddings"])
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and float(np.max(np.abs(g - r))) <= TOL, name
