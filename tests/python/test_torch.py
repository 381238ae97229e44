"""return_tensors="pt" round trip (runs when torch is importable)."""
import os

import numpy as np
import pytest

import safetensors_np
from conftest import CLASSIFIER, TINY_BERT, requires_torch

import bertcpp

pytestmark = requires_torch
TEXT = "Replace me by any text you'd like."


def test_pt_round_trip():
    import torch

    tok = bertcpp.BertTokenizer.from_pretrained(TINY_BERT)
    model = bertcpp.BertModel.from_pretrained(TINY_BERT)
    inputs = tok(TEXT, return_tensors="pt")
    assert isinstance(inputs["input_ids"], torch.Tensor) and inputs["input_ids"].dtype == torch.int64
    assert inputs.to("cpu") is inputs
    with torch.no_grad():
        out = model(**inputs, output_hidden_states=True)
    assert isinstance(out.last_hidden_state, torch.Tensor)
    assert out.last_hidden_state.dtype == torch.float32 and tuple(out.last_hidden_state.shape) == (1, 12, 32)
    assert all(isinstance(h, torch.Tensor) for h in out.hidden_states)
    exp = safetensors_np.load(os.path.join(TINY_BERT, "expected.safetensors"))
    want = torch.from_numpy(exp["single.last_hidden_state"])
    assert float((out.last_hidden_state - want).abs().max()) <= 1e-4
    np_out = model(**tok(TEXT, return_tensors="np"))
    np.testing.assert_array_equal(out.last_hidden_state.numpy(), np_out.last_hidden_state)


def test_pt_batch_and_classifier():
    import torch

    tok = bertcpp.AutoTokenizer.from_pretrained(CLASSIFIER)
    model = bertcpp.AutoModelForSequenceClassification.from_pretrained(CLASSIFIER)
    inputs = tok(["good", "bad movie"], padding=True, return_tensors="pt")
    logits = model(**inputs).logits
    assert isinstance(logits, torch.Tensor) and tuple(logits.shape) == (2, 3)
    pred = model.config.id2label[int(logits[0].argmax())]
    assert pred in ("negative", "neutral", "positive")


def test_sentence_transformer_tensor():
    import torch

    st = bertcpp.SentenceTransformer(TINY_BERT)
    t = st.encode(["hello", "world"], convert_to_tensor=True)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and tuple(t.shape) == (2, 32)
