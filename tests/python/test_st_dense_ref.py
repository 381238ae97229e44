"""SentenceTransformer with Dense modules against the real sentence-transformers: the modules and
expected outputs in tests/data/st_dense/ were written by tools/make_st_dense.py (reference venv) on
the folders st_folders.make_dense builds, which these tests build the same way."""
import json
import os

import numpy as np
import pytest

import st_folders
from conftest import DATA, MODELS

import bertcpp

DENSE = os.path.join(DATA, "st_dense")
with open(os.path.join(DENSE, "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
TEXTS = EXPECTED["texts"]
TOL = 1e-5


@pytest.mark.parametrize("variant", sorted(st_folders.DENSE_VARIANTS))
def test_dense_modules(variant, tmp_path):
    folder = st_folders.make_dense(MODELS, DENSE, str(tmp_path / variant), variant)
    model = bertcpp.SentenceTransformer(folder)
    case = EXPECTED["cases"][variant]
    assert model.get_sentence_embedding_dimension() == case["dimension"]
    ref = np.asarray(case["data"], dtype=np.float32).reshape(case["shape"])
    got = model.encode(TEXTS)
    assert got.shape == ref.shape and got.dtype == np.float32
    assert float(np.max(np.abs(got - ref))) <= TOL
    single = model.encode(TEXTS[0])
    assert float(np.max(np.abs(single - np.asarray(EXPECTED["cases"][variant + "/single"]["data"])))) <= TOL
    # the module API (model(features)) runs the same modules
    out = model(model.tokenize(TEXTS))
    assert float(np.max(np.abs(out["sentence_embedding"] - ref))) <= TOL
    # sentence-transformers' order: Dense, Normalize, then truncate_dim
    if variant.endswith("normalize"):
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    t = model.encode(TEXTS, truncate_dim=4)
    assert t.shape == (len(TEXTS), 4) and float(np.max(np.abs(t - ref[:, :4]))) <= TOL


@pytest.mark.parametrize("variant", sorted(st_folders.DENSE_VARIANTS))
def test_prompts_run_in_the_engine(variant, tmp_path):
    """encode(prompt_name=/prompt=) as sentence-transformers, include_prompt false included; the
    max_seq_length-override path (tokenize + forward with prompt_length) gives the same."""
    folder = st_folders.make_dense(MODELS, DENSE, str(tmp_path / variant), variant)
    model = bertcpp.SentenceTransformer(folder)
    cases = EXPECTED["cases"]
    for name in st_folders.DENSE_PROMPTS:
        ref = np.asarray(cases[f"{variant}/prompt_name_{name}"]["data"], dtype=np.float32).reshape(len(TEXTS), -1)
        assert float(np.max(np.abs(model.encode(TEXTS, prompt_name=name) - ref))) <= TOL
    ref = np.asarray(cases[f"{variant}/prompt"]["data"], dtype=np.float32).reshape(len(TEXTS), -1)
    assert float(np.max(np.abs(model.encode(TEXTS, prompt="Hello, ") - ref))) <= TOL
    model.max_seq_length = 127  # not the engine's own: the Python tokenize + forward path
    assert float(np.max(np.abs(model.encode(TEXTS, prompt="Hello, ") - ref))) <= TOL


def test_dense_errors_name_the_file(tmp_path):
    folder = st_folders.make_dense(MODELS, DENSE, str(tmp_path / "bad"), "dense-tanh")
    cfg_path = os.path.join(folder, "2_Dense", "config.json")
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(dict(cfg, activation_function="my.module.Swish"), f)
    with pytest.raises(bertcpp.InvalidFileError, match="2_Dense.*Swish"):
        bertcpp.SentenceTransformer(folder)
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(dict(cfg, in_features=31), f)
    with pytest.raises(bertcpp.InvalidFileError, match="2_Dense.*linear.weight has shape"):
        bertcpp.SentenceTransformer(folder)
