"""CrossEncoder against the real sentence-transformers: tests/data/cross_encoder/expected.json,
written by tools/make_cross_encoder_expected.py (reference venv) on the same tiny checkpoints."""
import json
import os
import shutil

import numpy as np
import pytest

from conftest import DATA, MODELS

import bertcpp

with open(os.path.join(DATA, "cross_encoder", "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
TOL = 1e-5


def _close(got, ref):
    got, ref = np.asarray(got), np.asarray(ref, dtype=np.float32)
    assert got.shape == ref.shape and got.dtype == np.float32, (got.shape, ref.shape, got.dtype)
    assert float(np.max(np.abs(got - ref))) <= TOL


@pytest.mark.parametrize("name", sorted(EXPECTED["cases"]))
def test_predict_and_rank(name):
    case = EXPECTED["cases"][name]
    model = bertcpp.CrossEncoder(os.path.join(MODELS, name))
    assert model.num_labels == case["num_labels"]
    _close(model.predict(EXPECTED["pairs"]), case["predict"])  # the default activation
    _close(model.predict(EXPECTED["pairs"], batch_size=2), case["predict"])
    _close(model.predict(EXPECTED["pairs"][0]), case["single"])
    if case["num_labels"] == 1:
        _close(model.predict(EXPECTED["pairs"], activation_fn=lambda x: x), case["identity"])
        for got, ref in ((model.rank(EXPECTED["query"], EXPECTED["docs"], return_documents=True), case["rank"]),
                         (model.rank(EXPECTED["query"], EXPECTED["docs"], top_k=2), case["rank_top2"])):
            assert [sorted(r) for r in got] == [sorted(r) for r in ref]
            assert [r["corpus_id"] for r in got] == [r["corpus_id"] for r in ref]
            assert all(abs(g["score"] - r["score"]) <= TOL and type(g["score"]) is float for g, r in zip(got, ref))
            assert [r.get("text") for r in got] == [r.get("text") for r in ref]
    else:
        _close(model.predict(EXPECTED["pairs"], apply_softmax=True), case["softmax"])
        with pytest.raises(ValueError, match="num_labels=1"):
            model.rank(EXPECTED["query"], EXPECTED["docs"])


def test_activation_from_config(tmp_path):
    src = os.path.join(MODELS, "tiny-roberta-reranker")
    for name in os.listdir(src):
        if os.path.isfile(os.path.join(src, name)):
            shutil.copy(os.path.join(src, name), tmp_path) if name != "config.json" else None
    with open(os.path.join(src, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    config["sentence_transformers"] = {"activation_fn": "torch.nn.modules.linear.Identity"}
    (tmp_path / "config.json").write_text(json.dumps(config))
    case = EXPECTED["cases"]["tiny-roberta-reranker"]
    _close(bertcpp.CrossEncoder(str(tmp_path)).predict(EXPECTED["pairs"]), case["identity"])
