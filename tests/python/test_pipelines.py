"""pipeline() helpers checked against the reference logits (goldens) where the goldens allow."""
import json
import os

import numpy as np
import pytest

import safetensors_np
from conftest import CLASSIFIER, PRETRAINING, TINY_BERT

import bertcpp


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_text_classification_matches_reference_logits():
    exp = safetensors_np.load(os.path.join(CLASSIFIER, "expected.safetensors"))
    with open(os.path.join(CLASSIFIER, "expected.json"), encoding="utf-8") as f:
        text = json.load(f)["texts"]["single"][0]
    probs = _softmax(exp["single.logits"][0].astype(np.float64))
    clf = bertcpp.pipeline("text-classification", model=CLASSIFIER)
    best = clf(text)[0]  # transformers: a list of one dict for one string
    labels = ["negative", "neutral", "positive"]
    assert best["label"] == labels[int(np.argmax(probs))]
    assert abs(best["score"] - float(probs.max())) <= 1e-4
    every = clf(text, top_k=None)
    assert [d["label"] for d in every] == [labels[i] for i in np.argsort(-probs)]
    assert clf([text, text])[1]["label"] == best["label"]


def test_fill_mask_agrees_with_masked_lm_logits():
    text = "the capital of france is [MASK]."
    fill = bertcpp.pipeline("fill-mask", model=PRETRAINING)
    got = fill(text, top_k=3)
    assert len(got) == 3 and all(set(d) >= {"score", "token", "token_str", "sequence"} for d in got)
    tok = bertcpp.BertTokenizer.from_pretrained(PRETRAINING)
    mlm = bertcpp.BertForMaskedLM.from_pretrained(PRETRAINING)
    enc = tok(text, return_tensors="np")
    pos = int(np.where(enc["input_ids"][0] == tok.mask_token_id)[0][0])
    probs = _softmax(mlm(**enc).logits[0, pos].astype(np.float64))
    top = np.argsort(-probs)[:3]
    assert [d["token"] for d in got] == top.tolist()
    assert abs(got[0]["score"] - float(probs[top[0]])) <= 1e-4


def test_unknown_task():
    with pytest.raises(ValueError):
        bertcpp.pipeline("translation", model=TINY_BERT)
