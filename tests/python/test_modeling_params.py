"""state_dict()/named_parameters()/parameters()/get_input_embeddings()/save_pretrained() against
transformers: names and shapes in tests/data/modeling/expected.json (tools/make_modeling_expected.py)."""
import json
import os

import numpy as np
import pytest

import safetensors_np
from conftest import DATA, MODELS

import bertcpp

with open(os.path.join(DATA, "modeling", "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)["models"]


def _np(x):
    return x.numpy() if hasattr(x, "numpy") else np.asarray(x)


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_names_shapes_and_counts_match_transformers(key):
    cls_name, folder = key.split("/")
    model = getattr(bertcpp, cls_name).from_pretrained(os.path.join(MODELS, folder))
    ref = EXPECTED[key]
    sd = model.state_dict()
    assert {k: list(_np(v).shape) for k, v in sd.items()} == ref["state_dict"]
    assert sorted(k for k, _ in model.named_parameters()) == sorted(ref["parameters"])
    assert sum(_np(p).size for p in model.parameters()) == ref["num_parameters"]
    assert list(_np(model.get_input_embeddings().weight).shape) == ref["input_embeddings_shape"]


def test_values_are_the_checkpoints_and_save_pretrained_round_trips(tmp_path):
    tiny = os.path.join(MODELS, "tiny-bert")
    model = bertcpp.BertModel.from_pretrained(tiny)
    raw = safetensors_np.load(os.path.join(tiny, "model.safetensors"))
    sd = model.state_dict()
    for k, v in raw.items():
        assert np.array_equal(_np(sd[k]), v), k
    ids = np.array([[101, 7592, 2088, 102]])
    assert np.array_equal(_np(model.get_input_embeddings()(ids)), raw["embeddings.word_embeddings.weight"][ids])
    out = tmp_path / "saved"
    model.save_pretrained(out)
    for name in ("vocab.txt", "tokenizer_config.json"):
        (out / name).write_bytes(open(os.path.join(tiny, name), "rb").read())
    again = bertcpp.BertModel.from_pretrained(str(out))
    tok = bertcpp.BertTokenizer.from_pretrained(tiny)
    enc = tok("Replace me by any text you'd like.", return_tensors="np")
    assert np.array_equal(_np(model(**enc).last_hidden_state), _np(again(**enc).last_hidden_state))
