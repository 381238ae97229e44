"""Model goldens (made by transformers BertModel / BertForPreTraining / BertForSequenceClassification
in fp32) through the Python API: max |diff| <= 1e-4 on every non-padded position."""
import json
import os

import numpy as np
import pytest

import safetensors_np
from conftest import CLASSIFIER, PRETRAINING, TINY_BERT

import bertcpp

TOL = 1e-4
FOLDERS = [TINY_BERT, PRETRAINING, CLASSIFIER]
CASES = ("single", "batch", "pair", "long")


@pytest.fixture(scope="module", params=FOLDERS, ids=os.path.basename)
def golden(request):
    folder = request.param
    with open(os.path.join(folder, "expected.json"), encoding="utf-8") as f:
        meta = json.load(f)
    return folder, meta, safetensors_np.load(os.path.join(folder, "expected.safetensors"))


@pytest.fixture(scope="module")
def base_model(golden):
    return bertcpp.BertModel.from_pretrained(golden[0])


def _inputs(exp, case):
    return {k: exp[f"{case}.{k}"] for k in ("input_ids", "attention_mask", "token_type_ids")}


def _masked_max_diff(got, want, mask):
    """max |got - want| over positions where mask == 1; got/want [batch, seq, ...]."""
    assert got.shape == want.shape, (got.shape, want.shape)
    keep = mask.astype(bool)
    return float(np.max(np.abs(got[keep] - want[keep])))


@pytest.mark.parametrize("case", CASES)
def test_tokenizer_reproduces_golden_inputs(golden, case):
    folder, meta, exp = golden
    tok = bertcpp.BertTokenizer.from_pretrained(folder)
    texts = meta["texts"][case]
    if case == "pair":
        enc = tok([t[0] for t in texts], [t[1] for t in texts], padding=True, truncation=True, return_tensors="np")
    else:
        enc = tok(texts, padding=True, truncation=True, return_tensors="np")
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        np.testing.assert_array_equal(enc[key], exp[f"{case}.{key}"], err_msg=key)


@pytest.mark.parametrize("case", CASES)
def test_last_hidden_state_and_pooler(golden, base_model, case):
    _, _, exp = golden
    inputs = _inputs(exp, case)
    out = base_model(**inputs)
    mask = inputs["attention_mask"]
    assert out.last_hidden_state.dtype == np.float32
    assert _masked_max_diff(out.last_hidden_state, exp[f"{case}.last_hidden_state"], mask) <= TOL
    assert out.pooler_output.shape == exp[f"{case}.pooler_output"].shape
    assert float(np.max(np.abs(out.pooler_output - exp[f"{case}.pooler_output"]))) <= TOL


def test_hidden_states_and_attentions(golden, base_model):
    _, _, exp = golden
    out = base_model(**_inputs(exp, "single"), output_hidden_states=True, output_attentions=True)
    want_h = exp["single.hidden_states"]
    want_a = exp["single.attentions"]
    assert isinstance(out.hidden_states, tuple) and len(out.hidden_states) == want_h.shape[0]
    assert isinstance(out.attentions, tuple) and len(out.attentions) == want_a.shape[0]
    for i, h in enumerate(out.hidden_states):
        assert float(np.max(np.abs(h - want_h[i]))) <= TOL, f"hidden_states[{i}]"
    for i, a in enumerate(out.attentions):
        assert a.shape == want_a[i].shape
        assert float(np.max(np.abs(a - want_a[i]))) <= TOL, f"attentions[{i}]"
    # the last hidden state is the last of hidden_states
    np.testing.assert_array_equal(out.hidden_states[-1], out.last_hidden_state)


def test_pretraining_heads():
    exp = safetensors_np.load(os.path.join(PRETRAINING, "expected.safetensors"))
    model = bertcpp.BertForPreTraining.from_pretrained(PRETRAINING)
    out = model(**_inputs(exp, "single"))
    assert float(np.max(np.abs(out.prediction_logits - exp["single.prediction_logits"]))) <= TOL
    for case in CASES:
        got = model(**_inputs(exp, case)).seq_relationship_logits
        assert float(np.max(np.abs(got - exp[f"{case}.seq_relationship_logits"]))) <= TOL, case
    mlm = bertcpp.BertForMaskedLM.from_pretrained(PRETRAINING)
    logits = mlm(**_inputs(exp, "single")).logits
    assert logits.shape == exp["single.prediction_logits"].shape
    assert float(np.max(np.abs(logits - exp["single.prediction_logits"]))) <= TOL


def test_sequence_classification():
    exp = safetensors_np.load(os.path.join(CLASSIFIER, "expected.safetensors"))
    model = bertcpp.BertForSequenceClassification.from_pretrained(CLASSIFIER)
    assert model.config.id2label == {0: "negative", 1: "neutral", 2: "positive"}
    assert model.config.label2id == {"negative": 0, "neutral": 1, "positive": 2}
    assert model.config.num_labels == 3
    for case in CASES:
        out = model(**_inputs(exp, case))
        assert out.logits.dtype == np.float32
        assert float(np.max(np.abs(out.logits - exp[f"{case}.logits"]))) <= TOL, case


def test_head_mismatch_is_an_error():
    with pytest.raises(bertcpp.BertcppError):
        bertcpp.BertForSequenceClassification.from_pretrained(TINY_BERT)
    with pytest.raises(bertcpp.BertcppError):
        bertcpp.BertForMaskedLM.from_pretrained(CLASSIFIER)


def test_auto_model_classes():
    assert type(bertcpp.AutoModel.from_pretrained(TINY_BERT)) is bertcpp.BertModel
    assert type(bertcpp.AutoModelForSequenceClassification.from_pretrained(CLASSIFIER)) is \
        bertcpp.BertForSequenceClassification
    assert type(bertcpp.AutoModelForMaskedLM.from_pretrained(PRETRAINING)) is bertcpp.BertForMaskedLM


def test_sentence_transformer_mean_pooling_matches_reference():
    """A plain BERT folder gets mean pooling: the reference last_hidden_state, mean over the mask."""
    with open(os.path.join(TINY_BERT, "expected.json"), encoding="utf-8") as f:
        texts = json.load(f)["texts"]["batch"]
    exp = safetensors_np.load(os.path.join(TINY_BERT, "expected.safetensors"))
    h = exp["batch.last_hidden_state"]
    m = exp["batch.attention_mask"][..., None].astype(np.float32)
    want = (h * m).sum(1) / m.sum(1)
    st = bertcpp.SentenceTransformer(TINY_BERT)
    got = st.encode(texts, batch_size=3)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == (len(texts), 32)
    assert float(np.max(np.abs(got - want))) <= TOL
    got_n = st.encode(texts, normalize_embeddings=True)
    want_n = want / np.linalg.norm(want, axis=1, keepdims=True)
    assert float(np.max(np.abs(got_n - want_n))) <= TOL
    one = st.encode(texts[1])
    assert one.shape == (32,)
    assert float(np.max(np.abs(one - want[1]))) <= TOL
    assert st.get_sentence_embedding_dimension() == 32


def test_sentence_transformer_folder_cls_normalize(tmp_path):
    """A sentence-transformers folder (CLS pooling + Normalize): the reference CLS state, unit length."""
    import shutil

    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(TINY_BERT, name), tmp_path / name)
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
        {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"}]))
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": 32, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128, "do_lower_case": False}))
    with open(os.path.join(TINY_BERT, "expected.json"), encoding="utf-8") as f:
        texts = json.load(f)["texts"]["batch"]
    exp = safetensors_np.load(os.path.join(TINY_BERT, "expected.safetensors"))
    cls = exp["batch.last_hidden_state"][:, 0]
    want = cls / np.linalg.norm(cls, axis=1, keepdims=True)
    st = bertcpp.SentenceTransformer(str(tmp_path))
    assert (st.pooling, st.normalize, st.max_seq_length) == ("cls", True, 128)
    got = st.encode(texts, batch_size=4)
    assert float(np.max(np.abs(got - want))) <= TOL
