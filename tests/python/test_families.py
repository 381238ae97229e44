"""The families through the Python API: AutoModel / the base-model class on each family's golden
folder (made by transformers 5.24, tools/make_family_goldens.py), and no head on a base model."""
import os

import numpy as np
import pytest

import safetensors_np
from conftest import DATA

import bertcpp
from bertcpp import _bertcpp

FOLDERS = ["tiny-distilbert", "tiny-electra", "tiny-mpnet", "tiny-roberta", "tiny-xlm-roberta"]


def _golden(name):
    folder = os.path.join(DATA, "models", name)
    return folder, safetensors_np.load(os.path.join(folder, "expected.safetensors"))


@pytest.mark.parametrize("name", FOLDERS)
def test_engine_forward_matches_transformers(name):
    folder, exp = _golden(name)
    engine = _bertcpp.Model.from_pretrained(folder)
    for case in ("single", "batch"):
        ids, mask = exp[f"{case}.input_ids"], exp[f"{case}.attention_mask"]
        types = exp.get(f"{case}.token_type_ids")
        out = engine.forward(ids, mask, types, False, False, False)
        keep = mask.astype(bool)
        got, want = out["last_hidden_state"], exp[f"{case}.last_hidden_state"]
        assert float(np.max(np.abs(got[keep] - want[keep]))) <= 1e-4
        assert "logits" not in out


def test_base_model_class_runs_no_head():
    folder, exp = _golden("tiny-distilbert-mlm")
    model = bertcpp.BertModel.from_pretrained(folder)
    out = model(input_ids=exp["single.input_ids"], attention_mask=exp["single.attention_mask"])
    keep = exp["single.attention_mask"].astype(bool)
    assert float(np.max(np.abs(out.last_hidden_state[keep] - exp["single.last_hidden_state"][keep]))) <= 1e-4
    mlm = bertcpp.BertForMaskedLM.from_pretrained(folder)
    logits = mlm(input_ids=exp["single.input_ids"], attention_mask=exp["single.attention_mask"]).logits
    assert float(np.max(np.abs(logits - exp["single.logits"]))) <= 1e-4


def test_config_names_the_checkpoints_model_type_and_family():
    folder = os.path.join(DATA, "models", "tiny-electra-classifier")
    model = bertcpp.AutoModelForSequenceClassification.from_pretrained(folder)
    assert model.config.model_type == "electra"
    assert model.config.family == "electra"
    assert model.config.embedding_size == 24  # config.json fields stay attributes
