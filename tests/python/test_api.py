"""transformers-shaped API: types, shapes, dtypes, containers, errors, zero-copy outputs."""
import gc
import os
import pickle
import threading

import numpy as np
import pytest

from conftest import CLASSIFIER, DATA, TINY_BERT

import bertcpp

TEXT = "Replace me by any text you'd like."


@pytest.fixture(scope="module")
def tok():
    return bertcpp.BertTokenizer.from_pretrained(TINY_BERT)


@pytest.fixture(scope="module")
def model():
    return bertcpp.BertModel.from_pretrained(TINY_BERT)


# ------------------------------------------------------------------------ tokenizer
def test_call_returns_lists_by_default(tok):
    enc = tok(TEXT)
    assert isinstance(enc, bertcpp.BatchEncoding) and isinstance(enc, dict)
    assert list(enc.keys()) == ["input_ids", "token_type_ids", "attention_mask"]
    assert isinstance(enc["input_ids"], list) and all(type(i) is int for i in enc["input_ids"])
    assert enc.input_ids is enc["input_ids"]
    assert enc["input_ids"][0] == tok.cls_token_id and enc["input_ids"][-1] == tok.sep_token_id
    with pytest.raises(AttributeError):
        enc.no_such_field


def test_return_tensors_np_shapes(tok):
    enc = tok(TEXT, return_tensors="np")
    for key in ("input_ids", "token_type_ids", "attention_mask"):
        assert isinstance(enc[key], np.ndarray) and enc[key].dtype == np.int64
        assert enc[key].shape == (1, 12)
    batch = tok(["a b c", "hello"], padding=True, return_tensors="np")
    assert batch["input_ids"].shape == (2, 5)
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]
    assert batch["input_ids"][1, 3:].tolist() == [tok.pad_token_id] * 2


def test_ragged_batch_to_tensors_is_a_value_error(tok):
    with pytest.raises(ValueError, match="padding=True"):
        tok(["a b c", "hello"], return_tensors="np")


def test_padding_max_length_and_multiple(tok):
    enc = tok("hello", padding="max_length", max_length=8)
    assert len(enc["input_ids"]) == 8 and enc["attention_mask"] == [1, 1, 1, 0, 0, 0, 0, 0]
    enc = tok(["hello", "a b c d"], padding=True, pad_to_multiple_of=8)
    assert [len(x) for x in enc["input_ids"]] == [8, 8]


def test_truncation_strategies(tok):
    a, b = "one two three four five six", "seven eight nine ten"
    for strategy in (True, "longest_first", "only_first", "only_second"):
        enc = tok(a, b, truncation=strategy, max_length=11)
        assert len(enc["input_ids"]) == 11, strategy
    first = tok(a, b, truncation="only_first", max_length=9)
    assert first["token_type_ids"].count(1) == 5  # text_b (4 words + [SEP]) kept whole
    second = tok(a, b, truncation="only_second", max_length=11)
    assert second["token_type_ids"].count(0) == 8  # text_a (6 words + [CLS] + [SEP]) kept whole
    # max_length without truncation= truncates like transformers (longest_first)
    assert len(tok(a, max_length=4)["input_ids"]) == 4
    assert len(tok(a, truncation=False, max_length=4)["input_ids"]) == 8


def test_batch_of_pairs_as_tuples(tok):
    enc = tok([("a b", "c"), ("d", "e f g")], padding=True)
    assert enc["token_type_ids"] == [[0, 0, 0, 0, 1, 1, 0], [0, 0, 0, 1, 1, 1, 1]]
    assert enc["attention_mask"][0] == [1, 1, 1, 1, 1, 1, 0]
    assert enc.tokens(0)[:4] == ["[CLS]", "a", "b", "[SEP]"]
    assert enc.sequence_ids(1) == [None, 0, None, 1, 1, 1, None]


def test_offsets_mapping(tok):
    text = "Héllo, WORLD naïve"
    enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True, return_length=True)
    offsets = enc["offset_mapping"]
    assert offsets[0] == (0, 0) and offsets[-1] == (0, 0)
    pieces = [text[s:e] for s, e in offsets[1:-1]]
    assert pieces[:3] == ["Héllo", ",", "WORLD"]
    assert enc["special_tokens_mask"] == [1] + [0] * (len(offsets) - 2) + [1]
    assert enc["length"] == len(enc["input_ids"])
    arr = tok([text], return_offsets_mapping=True, return_tensors="np")["offset_mapping"]
    assert arr.shape == (1, len(offsets), 2) and arr.dtype == np.int64


def test_optional_fields(tok):
    enc = tok(TEXT, return_token_type_ids=False, return_attention_mask=False)
    assert list(enc.keys()) == ["input_ids"]
    assert tok(TEXT, add_special_tokens=False)["input_ids"] == tok.convert_tokens_to_ids(tok.tokenize(TEXT))


def test_decode_and_special_tokens(tok):
    ids = tok(TEXT)["input_ids"]
    assert tok.decode(ids) == "[CLS] replace me by any text you'd like. [SEP]"
    assert tok.decode(ids, skip_special_tokens=True) == "replace me by any text you'd like."
    assert tok.decode(np.array(ids)) == tok.decode(ids)
    assert tok.batch_decode([ids, ids[:3]], skip_special_tokens=True)[1] == "replace me"
    assert tok.convert_ids_to_tokens(ids[1]) == "replace"
    assert tok.convert_tokens_to_ids("[MASK]") == tok.mask_token_id == 103
    assert (tok.cls_token, tok.sep_token, tok.pad_token, tok.unk_token, tok.mask_token) == \
        ("[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]")
    assert (tok.cls_token_id, tok.sep_token_id, tok.pad_token_id, tok.unk_token_id) == (101, 102, 0, 100)
    assert tok.vocab_size == len(tok) == 30522
    assert tok.model_max_length == 512
    assert sorted(tok.all_special_ids) == [0, 100, 101, 102, 103]
    assert tok.get_vocab()["hello"] == 7592


def test_auto_tokenizer_and_options():
    tok = bertcpp.AutoTokenizer.from_pretrained(TINY_BERT)
    assert isinstance(tok, bertcpp.BertTokenizer)
    assert tok.tokenize("Café") == ["cafe"]
    keep = bertcpp.BertTokenizer.from_pretrained(TINY_BERT, strip_accents=False)
    assert keep.tokenize("Café") != ["cafe"]
    cased = bertcpp.BertTokenizer.from_pretrained(os.path.join(DATA, "vocabs", "bert-base-cased"))
    assert cased.tokenize("Hello") == ["Hello"]
    assert bertcpp.BertTokenizer.from_pretrained(TINY_BERT, do_lower_case=False).tokenize("Hello") != ["hello"]


def test_pad_collator(tok):
    feats = [tok("hello"), tok("a b c d")]
    batch = tok.pad(feats, return_tensors="np")
    assert batch["input_ids"].shape == (2, 6)
    assert batch["attention_mask"][0].tolist() == [1, 1, 1, 0, 0, 0]


def test_batch_encoding_pickles(tok):
    enc = tok(TEXT)
    again = pickle.loads(pickle.dumps(enc))
    assert dict(again) == dict(enc) and again.input_ids == enc.input_ids


# ------------------------------------------------------------------------ model
def test_output_container(model, tok):
    out = model(**tok(TEXT, return_tensors="np"))
    assert isinstance(out, bertcpp.ModelOutput) and isinstance(out, dict)
    assert list(out.keys()) == ["last_hidden_state", "pooler_output"]
    assert out[0] is out.last_hidden_state is out["last_hidden_state"]
    assert out[1] is out.pooler_output
    assert out.hidden_states is None and out.attentions is None
    assert out.last_hidden_state.shape == (1, 12, 32) and out.last_hidden_state.dtype == np.float32
    assert out.pooler_output.shape == (1, 32) and out.pooler_output.dtype == np.float32
    last, pooled = out.to_tuple()
    assert last is out.last_hidden_state
    tup = model(**tok(TEXT, return_tensors="np"), return_dict=False)
    assert isinstance(tup, tuple) and len(tup) == 2
    np.testing.assert_array_equal(tup[0], out.last_hidden_state)


def test_inputs_as_lists_and_int32(model, tok):
    enc = tok(TEXT, return_tensors="np")
    ref = model(**enc).last_hidden_state
    as_list = model(input_ids=enc["input_ids"].tolist()).last_hidden_state
    np.testing.assert_allclose(as_list, ref, rtol=0, atol=1e-6)  # default mask = ones, token types = zeros
    as_i32 = model(enc["input_ids"].astype(np.int32), attention_mask=enc["attention_mask"].astype(bool))
    np.testing.assert_allclose(as_i32.last_hidden_state, ref, rtol=0, atol=1e-6)


def test_padding_does_not_change_results(model, tok):
    single = model(**tok("hello world", return_tensors="np")).last_hidden_state[0]
    batch = model(**tok(["hello world", "a much longer sentence than the first one"], padding=True,
                        return_tensors="np")).last_hidden_state
    assert float(np.max(np.abs(batch[0, : single.shape[0]] - single))) <= 1e-4


def test_outputs_are_zero_copy_views(model, tok):
    out = model(**tok(TEXT, return_tensors="np"))
    arr = out.last_hidden_state
    assert not arr.flags.owndata and arr.base is not None  # a view of engine memory
    assert arr.flags.c_contiguous and arr.flags.writeable
    arr[0, 0, 0] = 42.0  # writing to the user's own copy is fine
    keep = out.pooler_output.copy()
    view = out.pooler_output
    del out, arr
    gc.collect()
    np.testing.assert_array_equal(view, keep)  # the view keeps the engine tensor alive
    t = bertcpp._bertcpp._test_tensor_roundtrip(5)
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0] and not t.flags.owndata


def test_config(model):
    c = model.config
    assert isinstance(c, bertcpp.BertConfig)
    assert (c.hidden_size, c.num_hidden_layers, c.num_attention_heads, c.intermediate_size) == (32, 2, 4, 64)
    assert (c.vocab_size, c.max_position_embeddings, c.type_vocab_size) == (30522, 512, 2)
    assert c.hidden_act == "gelu" and c.layer_norm_eps == 1e-12 and c.pad_token_id == 0
    assert c.model_type == "bert" and c.architectures == ["BertModel"]
    assert bertcpp.BertConfig.from_pretrained(CLASSIFIER).id2label[2] == "positive"
    assert model.eval() is model and model.to("cpu") is model


def test_concurrent_calls_from_threads(model, tok):
    enc = tok(["hello world", "another text"], padding=True, return_tensors="np")
    ref = model(**enc).last_hidden_state
    results, errors = [], []

    def run():
        try:
            for _ in range(5):
                results.append(model(**enc).last_hidden_state)
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(results) == 15
    for r in results:
        np.testing.assert_allclose(r, ref, rtol=0, atol=1e-6)


# ------------------------------------------------------------------------ errors
def test_missing_folder():
    missing = os.path.join(DATA, "models", "no-such-model")
    with pytest.raises(FileNotFoundError) as e:
        bertcpp.BertModel.from_pretrained(missing)
    assert isinstance(e.value, bertcpp.BertcppError) and "no-such-model" in str(e.value)
    with pytest.raises(OSError):
        bertcpp.BertTokenizer.from_pretrained(missing)


def test_ids_out_of_range(model):
    with pytest.raises(ValueError, match="input_ids"):
        model(input_ids=np.array([[101, 30522, 102]]))
    with pytest.raises(ValueError):
        model(input_ids=np.array([[101, -1, 102]]))
    with pytest.raises(ValueError, match="token_type_ids"):
        model(input_ids=np.array([[101, 102]]), token_type_ids=np.array([[0, 2]]))
    with pytest.raises(bertcpp.BertcppError):
        model(input_ids=np.array([[101, 30522, 102]]))


def test_wrong_dtype_and_shape(model):
    with pytest.raises(TypeError, match="int"):
        model(input_ids=np.array([[101.0, 102.0]]))
    with pytest.raises(ValueError):
        model(input_ids=np.zeros((1, 2, 3), dtype=np.int64))
    with pytest.raises(ValueError, match="attention_mask"):
        model(input_ids=np.array([[101, 102]]), attention_mask=np.array([[1, 1, 1]]))
    with pytest.raises(ValueError):
        model(input_ids=[[101, 102], [101]])
    with pytest.raises(ValueError, match="max_position_embeddings"):
        model(input_ids=np.full((1, 513), 100))
    with pytest.raises(TypeError):
        model(input_ids=np.array([[101, 102]]), bogus=1)


def test_bad_tokenizer_arguments(tok):
    with pytest.raises(ValueError):
        tok(TEXT, padding="sideways")
    with pytest.raises(ValueError):
        tok(TEXT, return_tensors="tf")
    with pytest.raises(ValueError):
        tok(123)
    with pytest.raises(ValueError):
        tok(["a", "b"], ["c"])


def test_engine_error_classes():
    assert issubclass(bertcpp.BertcppError, RuntimeError)
    assert issubclass(bertcpp.InvalidArgumentError, ValueError)
    assert issubclass(bertcpp.NotFoundError, FileNotFoundError)
    assert issubclass(bertcpp.InvalidFileError, OSError)
    for cls in (bertcpp.InvalidArgumentError, bertcpp.NotFoundError, bertcpp.InvalidFileError,
                bertcpp.UnsupportedError, bertcpp.NetworkError):
        assert issubclass(cls, bertcpp.BertcppError)


def test_model_output_behaves_like_transformers():
    out = bertcpp.BaseModelOutputWithPoolingAndCrossAttentions(last_hidden_state=1, attentions=(2,))
    assert list(out.keys()) == ["last_hidden_state", "attentions"]
    assert out[1] == (2,) and out.pooler_output is None and out[:1] == (1,)
    out.pooler_output = 3
    assert out["pooler_output"] == 3
    assert pickle.loads(pickle.dumps(out)) == out
    with pytest.raises(KeyError):
        out["pooler_output_x"]


def test_add_pooling_layer_false(tok):
    model = bertcpp.BertModel.from_pretrained(TINY_BERT, add_pooling_layer=False, output_hidden_states=True)
    out = model(**tok(TEXT, return_tensors="np"))
    assert out.pooler_output is None and len(out.hidden_states) == 3
    assert list(out.keys()) == ["last_hidden_state", "hidden_states"]


def test_model_id_from_the_hub_cache(tmp_path, monkeypatch):
    """A model id resolves through a Hugging Face cache laid out like huggingface_hub's (offline)."""
    import shutil

    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = tmp_path / "models--test-org--tiny-bert"
    snap = repo / "snapshots" / commit
    snap.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json"):
        shutil.copy(os.path.join(TINY_BERT, name), snap / name)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok = bertcpp.AutoTokenizer.from_pretrained("test-org/tiny-bert")
    model = bertcpp.AutoModel.from_pretrained("test-org/tiny-bert")
    assert model.config.layer_norm_eps == 1e-12 and model.config.hidden_size == 32
    assert model.config.name_or_path == "test-org/tiny-bert"
    ref = bertcpp.BertModel.from_pretrained(TINY_BERT)
    enc = tok(TEXT, return_tensors="np")
    np.testing.assert_allclose(model(**enc).last_hidden_state, ref(**enc).last_hidden_state, rtol=0, atol=1e-6)
