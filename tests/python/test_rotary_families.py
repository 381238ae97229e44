"""The rotary post-norm families through the Python API: bertcpp's AutoModel classes on each golden folder made
by the family's own reference code (NomicBERT: tools/make_nomic_goldens.py, Nomic's modeling_hf_nomic_bert.py;
GTE: tools/make_gte_goldens.py, transformers' modeling_gte) equal the golden, max |diff| <= 1e-4 where attention_mask is 1."""
import os

import numpy as np
import pytest

import safetensors_np
from conftest import DATA

import bertcpp

TOL = 1e-4
CASES = ("single", "batch", "pair", "long")
BASE = [("tiny-nomic-bert", "nomic_bert"), ("tiny-nomic-bert-ntk", "nomic_bert"), ("tiny-gte", "gte"),
        ("tiny-gte-notypes", "gte"), ("tiny-jina-bert", "jina_bert"), ("tiny-jina-bert-reglu", "jina_bert")]
MLM = ["tiny-nomic-bert-mlm", "tiny-gte-mlm", "tiny-jina-bert-mlm"]
CLASSIFIER = ["tiny-nomic-bert-classifier", "tiny-gte-classifier", "tiny-jina-bert-classifier"]


def _golden(name):
    folder = os.path.join(DATA, "models", name)
    return folder, safetensors_np.load(os.path.join(folder, "expected.safetensors"))


def _inputs(exp, case):
    return {k: exp[f"{case}.{k}"] for k in ("input_ids", "attention_mask", "token_type_ids") if f"{case}.{k}" in exp}


def _masked(got, want, mask):
    assert got.shape == want.shape, (got.shape, want.shape)
    keep = mask.astype(bool)
    return float(np.max(np.abs(got[keep] - want[keep])))


@pytest.mark.parametrize("name,family", BASE)
def test_auto_model_matches_reference(name, family):
    folder, exp = _golden(name)
    model = bertcpp.AutoModel.from_pretrained(folder)
    assert model.config.model_type == family
    assert model.config.family == family
    for case in CASES:
        inputs = _inputs(exp, case)
        out = model(**inputs)
        assert _masked(out.last_hidden_state, exp[f"{case}.last_hidden_state"], inputs["attention_mask"]) <= TOL, case


@pytest.mark.parametrize("name", MLM)
def test_auto_model_for_masked_lm_matches_reference(name):
    folder, exp = _golden(name)
    model = bertcpp.AutoModelForMaskedLM.from_pretrained(folder)
    inputs = _inputs(exp, "single")
    logits = model(**inputs).logits
    assert _masked(logits, exp["single.logits"], inputs["attention_mask"]) <= TOL


@pytest.mark.parametrize("name", CLASSIFIER)
def test_auto_model_for_sequence_classification_matches_reference(name):
    folder, exp = _golden(name)
    model = bertcpp.AutoModelForSequenceClassification.from_pretrained(folder)
    assert model.config.num_labels == 3
    for case in CASES:
        logits = model(**_inputs(exp, case)).logits
        assert float(np.max(np.abs(logits - exp[f"{case}.logits"]))) <= TOL, case
