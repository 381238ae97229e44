"""The new encoder families through the Python API: bertcpp's AutoModel classes on each golden folder made
by the family's own reference code (ModernBERT: tools/make_modernbert_goldens.py, transformers' modeling_modernbert; NomicBERT: tools/make_nomic_goldens.py, Nomic's modeling_hf_nomic_bert.py;
GTE: tools/make_gte_goldens.py, transformers' modeling_gte, and with --new-impl new-impl's modeling.py for model_type
"new") equal the golden, max |diff| <= 1e-4 where attention_mask is 1."""
import os

import numpy as np
import pytest

import safetensors_np
from conftest import DATA

import bertcpp

TOL = 1e-4
CASES = ("single", "batch", "pair", "long")
BASE = [("tiny-nomic-bert", "nomic_bert"), ("tiny-nomic-bert-ntk", "nomic_bert"), ("tiny-gte", "gte"),
        ("tiny-gte-notypes", "gte"), ("tiny-gte-new", "gte_new"), ("tiny-gte-new-mixed", "gte_new"),
        ("tiny-gte-new-absolute", "gte_new"), ("tiny-jina-bert", "jina_bert"), ("tiny-jina-bert-reglu", "jina_bert"),
        ("tiny-modernbert", "modernbert")]
MODEL_TYPE = {"gte_new": "new"}  # config.json's model_type where it is not the family's name
MLM = ["tiny-nomic-bert-mlm", "tiny-gte-mlm", "tiny-gte-new-mlm", "tiny-jina-bert-mlm", "tiny-modernbert-mlm"]
CLASSIFIER = ["tiny-nomic-bert-classifier", "tiny-gte-classifier", "tiny-gte-new-classifier", "tiny-jina-bert-classifier",
              "tiny-modernbert-classifier"]


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
    assert model.config.model_type == MODEL_TYPE.get(family, family)
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


def test_gte_new_token_classification_matches_reference():
    folder, exp = _golden("tiny-gte-new-token")  # RMSNorm layers
    model = bertcpp.AutoModelForTokenClassification.from_pretrained(folder)
    for case in CASES:
        inputs = _inputs(exp, case)
        assert _masked(model(**inputs).logits, exp[f"{case}.logits"], inputs["attention_mask"]) <= TOL, case


def test_gte_new_question_answering_matches_reference():
    folder, exp = _golden("tiny-gte-new-qa")
    model = bertcpp.AutoModelForQuestionAnswering.from_pretrained(folder)
    for case in CASES:
        inputs = _inputs(exp, case)
        out = model(**inputs)
        for name in ("start_logits", "end_logits"):
            assert _masked(getattr(out, name), exp[f"{case}.{name}"], inputs["attention_mask"]) <= TOL, (case, name)


@pytest.mark.parametrize("name,labels,logits", [("tiny-modernbert-token", 5, 3), ("tiny-modernbert-classifier-cls", 1, 2)])
def test_modernbert_heads_match_reference(name, labels, logits):
    folder, exp = _golden(name)
    cls = bertcpp.AutoModelForTokenClassification if logits == 3 else bertcpp.AutoModelForSequenceClassification
    model = cls.from_pretrained(folder)
    assert model.config.num_labels == labels
    for case in CASES:
        inputs = _inputs(exp, case)
        got = model(**inputs).logits
        assert got.ndim == logits
        diff = _masked(got, exp[f"{case}.logits"], inputs["attention_mask"]) if logits == 3 else \
            float(np.max(np.abs(got - exp[f"{case}.logits"])))
        assert diff <= TOL, case
