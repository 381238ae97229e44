"""The README snippet, verbatim except the import and the model path (a golden model folder)."""
import os

import numpy as np

import safetensors_np
from conftest import TINY_BERT

text = "Replace me by any text you'd like."


def test_user_snippet_verbatim():
    from bertcpp import BertTokenizer, BertModel
    tokenizer = BertTokenizer.from_pretrained(TINY_BERT)
    model = BertModel.from_pretrained(TINY_BERT)
    inputs = tokenizer(text, return_tensors="np")
    outputs = model(**inputs)
    last_hidden_state = outputs.last_hidden_state   # numpy array, or torch tensor when asked

    exp = safetensors_np.load(os.path.join(TINY_BERT, "expected.safetensors"))
    assert inputs["input_ids"].dtype == np.int64
    np.testing.assert_array_equal(inputs["input_ids"], exp["single.input_ids"])
    assert isinstance(last_hidden_state, np.ndarray)
    assert last_hidden_state.dtype == np.float32
    assert last_hidden_state.shape == (1, exp["single.input_ids"].shape[1], 32)
    assert float(np.max(np.abs(last_hidden_state - exp["single.last_hidden_state"]))) <= 1e-4
