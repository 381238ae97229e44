"""BertTokenizer / AutoTokenizer with the transformers API, backed by the C++ WordPiece tokenizer."""
from __future__ import annotations

import os
import warnings
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _bertcpp
from ._tensors import to_framework, to_list

__all__ = ["BatchEncoding", "BertTokenizer", "BertTokenizerFast", "AutoTokenizer", "XLMRobertaTokenizer",
           "XLMRobertaTokenizerFast"]

TextInput = str
PairInput = Tuple[str, str]

# from_pretrained keywords transformers accepts that change nothing here (no download options:
# bertcpp resolves hub ids through the Hugging Face cache itself).
_IGNORED_KWARGS = {
    "use_fast", "cache_dir", "force_download", "resume_download", "proxies", "local_files_only",
    "token", "use_auth_token", "trust_remote_code", "subfolder", "_from_auto", "padding_side",
    "clean_up_tokenization_spaces", "legacy", "add_prefix_space",
}


class BatchEncoding(dict):
    """What a tokenizer call returns: a dict (input_ids, token_type_ids, attention_mask, ...) with
    attribute access, like transformers.BatchEncoding. ``enc[i]`` with an int gives the i-th
    engine Encoding (tokens, offsets, sequence_ids)."""

    def __init__(self, data: Optional[Dict[str, Any]] = None, encoding: Optional[List[Any]] = None,
                 tensor_type: Optional[str] = None, n_sequences: Optional[int] = None):
        super().__init__(data or {})
        object.__setattr__(self, "_encodings", encoding)
        object.__setattr__(self, "_n_sequences", n_sequences)
        if tensor_type is not None:
            self.convert_to_tensors(tensor_type)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"'BatchEncoding' object has no attribute {name!r}") from None

    def __getitem__(self, key: Union[str, int]) -> Any:
        if isinstance(key, str):
            return super().__getitem__(key)
        if self._encodings is not None:
            return self._encodings[key]
        raise KeyError("indexing by integer needs the engine encodings (not kept by pad())")

    def __getstate__(self):
        return {"data": dict(self), "encodings": None, "n_sequences": self._n_sequences}

    def __setstate__(self, state):
        self.update(state["data"])
        object.__setattr__(self, "_encodings", state.get("encodings"))
        object.__setattr__(self, "_n_sequences", state.get("n_sequences"))

    @property
    def data(self) -> Dict[str, Any]:
        return dict(self)

    @property
    def encodings(self) -> Optional[List[Any]]:
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return self._encodings is not None

    @property
    def n_sequences(self) -> Optional[int]:
        return self._n_sequences

    def tokens(self, batch_index: int = 0) -> List[str]:
        """The tokens (special and padding tokens included) of the batch_index-th encoding."""
        return list(self._encoding(batch_index).tokens)

    def sequence_ids(self, batch_index: int = 0) -> List[Optional[int]]:
        """Per token: 0 / 1 for the first / second text, None for special and padding tokens."""
        return [None if s < 0 else s for s in self._encoding(batch_index).sequence_ids]

    def _encoding(self, batch_index: int):
        if self._encodings is None:
            raise ValueError("this BatchEncoding holds no engine encodings")
        return self._encodings[batch_index]

    def convert_to_tensors(self, tensor_type: Optional[str] = None, prepend_batch_axis: bool = False):
        if tensor_type is None:
            return self
        tensor_type = _tensor_type(tensor_type)
        from ._tensors import is_torch_tensor  # noqa: PLC0415

        for key, value in list(self.items()):
            if isinstance(value, np.ndarray):
                arr = value
            elif is_torch_tensor(value):
                arr = value.numpy()
            else:
                if prepend_batch_axis:
                    value = [value]
                try:
                    arr = np.asarray(value, dtype=np.int64)
                except (ValueError, TypeError):
                    raise ValueError(
                        "Unable to create tensor, you should probably activate truncation and/or padding with "
                        "'padding=True' 'truncation=True' to have batched tensors with the same length. "
                        f"(feature {key!r} has sequences of different lengths)") from None
            super().__setitem__(key, to_framework(arr, tensor_type))
        return self

    def to(self, device: Any) -> "BatchEncoding":
        """Moves torch tensors to `device` (bertcpp runs on the CPU, so this is for torch code)."""
        for key, value in list(self.items()):
            if hasattr(value, "to") and not isinstance(value, np.ndarray):
                super().__setitem__(key, value.to(device))
        return self

    def __repr__(self) -> str:
        return f"BatchEncoding({dict.__repr__(self)})"


def _tensor_type(t: Any) -> Optional[str]:
    if t is None:
        return None
    t = getattr(t, "value", t)
    if t not in ("np", "pt"):
        raise ValueError(f"return_tensors must be 'np', 'pt' or None (TensorFlow and JAX are not supported), got {t!r}")
    return t


def _padding_strategy(padding: Any) -> str:
    padding = getattr(padding, "value", padding)
    if padding is False or padding is None or padding == "do_not_pad":
        return "none"
    if padding is True or padding == "longest":
        return "longest"
    if padding == "max_length":
        return "max_length"
    raise ValueError(f"padding must be True, False, 'longest', 'max_length' or 'do_not_pad', got {padding!r}")


def _truncation_strategy(truncation: Any, max_length: Optional[int]) -> str:
    truncation = getattr(truncation, "value", truncation)
    if truncation is None:
        # transformers: max_length without truncation means longest_first (it warns).
        return "longest_first" if max_length is not None else "none"
    if truncation is False or truncation == "do_not_truncate":
        return "none"
    if truncation is True:
        return "longest_first"
    if truncation in ("longest_first", "only_first", "only_second"):
        return truncation
    raise ValueError("truncation must be True, False, 'longest_first', 'only_first', 'only_second' or "
                     f"'do_not_truncate', got {truncation!r}")


class BertTokenizer:
    """transformers.BertTokenizer with the same tokens and ids (and fast-tokenizer offsets).

    ``BertTokenizer.from_pretrained(id_or_folder, do_lower_case=..., strip_accents=...,
    tokenize_chinese_chars=...)`` or ``BertTokenizer(vocab_file, do_lower_case=True, ...)``.
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side = "right"
    is_fast = False
    _backend = "slow"  # the engine behind from_pretrained: BertTokenizer is transformers' slow one

    def __init__(self, vocab_file: Optional[str] = None, do_lower_case: Optional[bool] = True,
                 do_basic_tokenize: bool = True, never_split: Optional[Iterable[str]] = None,
                 unk_token: str = "[UNK]", sep_token: str = "[SEP]", pad_token: str = "[PAD]",
                 cls_token: str = "[CLS]", mask_token: str = "[MASK]", tokenize_chinese_chars: Optional[bool] = True,
                 strip_accents: Optional[bool] = None, model_max_length: Optional[int] = None,
                 _engine: Optional[Any] = None, name_or_path: str = "", **kwargs: Any):
        self.name_or_path = name_or_path
        if _engine is None:
            if vocab_file is None:
                raise ValueError("BertTokenizer needs a vocab_file (or use BertTokenizer.from_pretrained)")
            if not do_basic_tokenize:
                raise NotImplementedError("do_basic_tokenize=False is not supported by bertcpp")
            _engine = _bertcpp.Tokenizer.from_vocab(
                os.fspath(vocab_file), do_lower_case=do_lower_case, strip_accents=strip_accents,
                tokenize_chinese_chars=tokenize_chinese_chars,
                never_split=list(never_split) if never_split is not None else None,
                model_max_length=model_max_length)
            name_or_path = name_or_path or os.fspath(vocab_file)
        self._tok = _engine
        self.name_or_path = name_or_path
        self.truncation_side = kwargs.pop("truncation_side", "right")
        self.init_kwargs = dict(kwargs)
        ids = self._tok.convert_ids_to_tokens(
            [self._tok.unk_token_id, self._tok.sep_token_id, self._tok.pad_token_id, self._tok.cls_token_id])
        self.unk_token, self.sep_token, self.pad_token, self.cls_token = ids
        self.mask_token = self._tok.mask_token
        self._model_max_length = self._tok.model_max_length

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], *init_inputs: Any,
                        do_lower_case: Optional[bool] = None, strip_accents: Optional[bool] = None,
                        tokenize_chinese_chars: Optional[bool] = None, never_split: Optional[Iterable[str]] = None,
                        model_max_length: Optional[int] = None, **kwargs: Any) -> "BertTokenizer":
        """Loads vocab.txt + tokenizer_config.json (or tokenizer.json) from a local folder, a
        vocab.txt file, or a model id resolved through the Hugging Face cache."""
        path = os.fspath(pretrained_model_name_or_path)
        extra = {k: v for k, v in kwargs.items() if k not in _IGNORED_KWARGS}
        revision = extra.pop("revision", None)
        if revision not in (None, "main"):
            warnings.warn("bertcpp tokenizers load the 'main' revision (revision= is used by models)")
        truncation_side = extra.pop("truncation_side", "right")
        if extra:
            warnings.warn(f"BertTokenizer.from_pretrained: ignoring unsupported arguments {sorted(extra)}")
        opts = dict(do_lower_case=do_lower_case, strip_accents=strip_accents,
                    tokenize_chinese_chars=tokenize_chinese_chars,
                    never_split=list(never_split) if never_split is not None else None,
                    model_max_length=model_max_length)
        if os.path.isfile(path):
            engine = _bertcpp.Tokenizer.from_vocab(path, **opts)
        else:
            engine = _bertcpp.Tokenizer.from_pretrained(path, backend=cls._backend, **opts)
        return cls(_engine=engine, name_or_path=path, truncation_side=truncation_side)

    @classmethod
    def _from_engine(cls, engine: Any, name_or_path: str = "") -> "BertTokenizer":
        return cls(_engine=engine, name_or_path=name_or_path)

    # ------------------------------------------------------------------ properties
    @property
    def vocab_size(self) -> int:
        return self._tok.vocab_size

    def __len__(self) -> int:
        return self._tok.vocab_size

    @property
    def model_max_length(self) -> int:
        return self._model_max_length

    @model_max_length.setter
    def model_max_length(self, value: int) -> None:
        self._model_max_length = int(value)

    @property
    def cls_token_id(self) -> int:
        return self._tok.cls_token_id

    @property
    def sep_token_id(self) -> int:
        return self._tok.sep_token_id

    @property
    def pad_token_id(self) -> int:
        return self._tok.pad_token_id

    @property
    def mask_token_id(self) -> int:
        return self._tok.mask_token_id

    @property
    def unk_token_id(self) -> int:
        return self._tok.unk_token_id

    pad_token_type_id = 0
    bos_token = eos_token = None
    bos_token_id = eos_token_id = None

    @property
    def special_tokens_map(self) -> Dict[str, str]:
        return {"unk_token": self.unk_token, "sep_token": self.sep_token, "pad_token": self.pad_token,
                "cls_token": self.cls_token, "mask_token": self.mask_token}

    @property
    def all_special_tokens(self) -> List[str]:
        return list(self.special_tokens_map.values())

    @property
    def all_special_ids(self) -> List[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    def get_vocab(self) -> Dict[str, int]:
        tokens = self._tok.convert_ids_to_tokens(list(range(self.vocab_size)))
        return {t: i for i, t in enumerate(tokens)}

    @property
    def vocab(self) -> Dict[str, int]:
        return self.get_vocab()

    # ------------------------------------------------------------------ tokenization
    def tokenize(self, text: str, **kwargs: Any) -> List[str]:
        """WordPiece tokens of `text`, without special tokens (= transformers tokenize)."""
        return self._tok.tokenize(text)

    def __call__(self, text: Union[str, List[str], List[PairInput], None] = None,
                 text_pair: Union[str, List[str], None] = None, add_special_tokens: bool = True,
                 padding: Union[bool, str] = False, truncation: Union[bool, str, None] = None,
                 max_length: Optional[int] = None, stride: int = 0, is_split_into_words: bool = False,
                 pad_to_multiple_of: Optional[int] = None, return_tensors: Optional[str] = None,
                 return_token_type_ids: Optional[bool] = None, return_attention_mask: Optional[bool] = None,
                 return_overflowing_tokens: bool = False, return_special_tokens_mask: bool = False,
                 return_offsets_mapping: bool = False, return_length: bool = False, verbose: bool = True,
                 **kwargs: Any) -> BatchEncoding:
        """Tokenizes one text, a pair, or a batch (list of texts / of (text, text_pair) tuples),
        exactly like transformers' tokenizer call."""
        if text is None:
            raise ValueError("You need to specify `text` (a str, a list of str, or a list of (str, str) pairs)")
        if kwargs:
            raise TypeError(f"unexpected tokenizer arguments: {sorted(kwargs)}")
        if return_overflowing_tokens:
            raise NotImplementedError("return_overflowing_tokens is not supported by bertcpp")
        batched, texts, pairs = self._split_inputs(text, text_pair, is_split_into_words)
        pad = _padding_strategy(padding)
        trunc = _truncation_strategy(truncation, max_length)
        if pad == "max_length" and max_length is None:
            max_length = self.model_max_length
        if trunc != "none" and max_length is None:
            max_length = self.model_max_length
        if trunc == "none" and pad != "max_length":
            max_length = None  # explicit truncation=False: max_length must not truncate
        encodings = self._tok.encode_batch(texts, pairs, add_special_tokens=add_special_tokens,
                                           truncation=trunc, max_length=max_length, padding=pad,
                                           truncation_side=self.truncation_side)
        tensor_type = _tensor_type(return_tensors)
        if tensor_type is not None and not pad_to_multiple_of:
            return self._collect_arrays(encodings, tensor_type, pairs is not None,
                                        return_token_type_ids is not False, return_attention_mask is not False,
                                        return_special_tokens_mask, return_offsets_mapping, return_length)
        data = self._collect(encodings, pad, pad_to_multiple_of,
                             return_token_type_ids=True if return_token_type_ids is None else return_token_type_ids,
                             return_attention_mask=True if return_attention_mask is None else return_attention_mask,
                             return_special_tokens_mask=return_special_tokens_mask,
                             return_offsets_mapping=return_offsets_mapping, return_length=return_length)
        if not batched:
            data = {k: v[0] for k, v in data.items()}
        enc = BatchEncoding(data, encoding=encodings, n_sequences=2 if pairs is not None else 1)
        return enc.convert_to_tensors(_tensor_type(return_tensors), prepend_batch_axis=not batched)

    def _split_inputs(self, text: Any, text_pair: Any, is_split_into_words: bool):
        def words(x):
            if not isinstance(x, (list, tuple)) or not all(isinstance(w, str) for w in x):
                raise ValueError("with is_split_into_words=True, each text must be a list of words")
            return " ".join(x)

        if is_split_into_words:
            batched = isinstance(text, (list, tuple)) and len(text) > 0 and isinstance(text[0], (list, tuple))
            texts = [words(t) for t in text] if batched else [words(text)]
            if text_pair is None:
                return batched, texts, None
            pairs = [words(t) for t in text_pair] if batched else [words(text_pair)]
            return batched, texts, pairs
        if isinstance(text, str):
            if text_pair is not None and not isinstance(text_pair, str):
                raise ValueError("text is a str, so text_pair must be a str too")
            return False, [text], None if text_pair is None else [text_pair]
        if not isinstance(text, (list, tuple)):
            raise ValueError(f"text must be a str, a list of str or a list of (str, str) pairs, got {type(text).__name__}")
        if text_pair is None and len(text) > 0 and all(isinstance(t, (list, tuple)) for t in text):
            if not all(len(t) == 2 and isinstance(t[0], str) and isinstance(t[1], str) for t in text):
                raise ValueError("a batch of pairs must be a list of (text, text_pair) tuples of str")
            return True, [t[0] for t in text], [t[1] for t in text]
        if not all(isinstance(t, str) for t in text):
            raise ValueError("text must be a str, a list of str or a list of (str, str) pairs")
        if text_pair is None:
            return True, list(text), None
        if not isinstance(text_pair, (list, tuple)) or not all(isinstance(t, str) for t in text_pair):
            raise ValueError("text is a list, so text_pair must be a list of str of the same length")
        if len(text_pair) != len(text):
            raise ValueError(f"text and text_pair have different lengths ({len(text)} vs {len(text_pair)})")
        return True, list(text), list(text_pair)

    @staticmethod
    def _collect_arrays(encodings: List[Any], tensor_type: str, is_pair: bool, token_type_ids: bool,
                        attention_mask: bool, special_tokens_mask: bool, offsets: bool,
                        length: bool) -> BatchEncoding:
        """Fast path for return_tensors: the engine's encodings stacked in C++ (no Python lists)."""
        fields = ["input_ids"] + (["token_type_ids"] if token_type_ids else []) + \
            (["attention_mask"] if attention_mask else []) + \
            (["special_tokens_mask"] if special_tokens_mask else []) + (["offset_mapping"] if offsets else [])
        data: Dict[str, Any] = {}
        for field in fields:
            arr = _bertcpp.stack(encodings, field)
            if arr is None:
                raise ValueError(
                    "Unable to create tensor, you should probably activate truncation and/or padding with "
                    "'padding=True' 'truncation=True' to have batched tensors with the same length.")
            data[field] = arr
        if length:
            data["length"] = np.full(len(encodings), data["input_ids"].shape[1], dtype=np.int64)
        enc = BatchEncoding(data, encoding=encodings, n_sequences=2 if is_pair else 1)
        return enc.convert_to_tensors(tensor_type)

    def _collect(self, encodings: List[Any], pad: str, pad_to_multiple_of: Optional[int], *,
                 return_token_type_ids: bool, return_attention_mask: bool, return_special_tokens_mask: bool,
                 return_offsets_mapping: bool, return_length: bool) -> Dict[str, List[Any]]:
        data: Dict[str, List[Any]] = {"input_ids": [e.input_ids for e in encodings]}
        if return_token_type_ids:
            data["token_type_ids"] = [e.token_type_ids for e in encodings]
        if return_attention_mask:
            data["attention_mask"] = [e.attention_mask for e in encodings]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [[1 if s < 0 else 0 for s in e.sequence_ids] for e in encodings]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in encodings]
        if pad != "none" and pad_to_multiple_of:
            longest = max((len(e) for e in encodings), default=0)
            target = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
            fill = {"input_ids": self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0,
                    "special_tokens_mask": 1, "offset_mapping": (0, 0)}
            for key, rows in data.items():
                data[key] = [list(r) + [fill[key]] * (target - len(r)) for r in rows]
        if return_length:
            data["length"] = [len(r) for r in data["input_ids"]]
        return data

    def encode(self, text: str, text_pair: Optional[str] = None, add_special_tokens: bool = True,
               padding: Union[bool, str] = False, truncation: Union[bool, str, None] = None,
               max_length: Optional[int] = None, return_tensors: Optional[str] = None, **kwargs: Any) -> Any:
        """The input_ids of one text (or pair): a list, or a [1, seq] tensor with return_tensors."""
        enc = self(text, text_pair, add_special_tokens=add_special_tokens, padding=padding, truncation=truncation,
                   max_length=max_length, return_tensors=return_tensors, **kwargs)
        return enc["input_ids"]

    def encode_plus(self, text: str, text_pair: Optional[str] = None, **kwargs: Any) -> BatchEncoding:
        return self(text, text_pair, **kwargs)

    def batch_encode_plus(self, batch_text_or_text_pairs: List[Any], **kwargs: Any) -> BatchEncoding:
        return self(list(batch_text_or_text_pairs), **kwargs)

    # ------------------------------------------------------------------ ids <-> text
    def decode(self, token_ids: Any, skip_special_tokens: bool = False,
               clean_up_tokenization_spaces: Optional[bool] = None, **kwargs: Any) -> str:
        """Text of a 1-D sequence of ids (list, numpy, torch or a single int)."""
        ids = to_list(token_ids)
        if isinstance(ids, int):
            ids = [ids]
        if ids and isinstance(ids[0], list):
            raise ValueError("decode takes one sequence of ids; use batch_decode for a batch")
        return self._tok.decode([int(i) for i in ids], skip_special_tokens,
                                True if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces)

    def batch_decode(self, sequences: Any, skip_special_tokens: bool = False,
                     clean_up_tokenization_spaces: Optional[bool] = None, **kwargs: Any) -> List[str]:
        return [self.decode(s, skip_special_tokens, clean_up_tokenization_spaces) for s in to_list(sequences)]

    def convert_ids_to_tokens(self, ids: Any, skip_special_tokens: bool = False) -> Union[str, List[str]]:
        ids = to_list(ids)
        if isinstance(ids, int):
            return self._tok.convert_ids_to_tokens([ids])[0]
        ids = [int(i) for i in ids]
        if skip_special_tokens:
            ids = [i for i in ids if not self._tok.is_special_id(i)]
        return self._tok.convert_ids_to_tokens(ids)

    def convert_tokens_to_ids(self, tokens: Union[str, Sequence[str]]) -> Union[int, List[int]]:
        if isinstance(tokens, str):
            return self._tok.token_to_id(tokens)
        return [self._tok.token_to_id(t) for t in tokens]

    def convert_tokens_to_string(self, tokens: Sequence[str]) -> str:
        return self._tok.convert_tokens_to_string(list(tokens))

    # ------------------------------------------------------------------ helpers transformers has
    def build_inputs_with_special_tokens(self, token_ids_0: List[int], token_ids_1: Optional[List[int]] = None) -> List[int]:
        out = [self.cls_token_id] + list(token_ids_0) + [self.sep_token_id]
        if token_ids_1 is not None:
            out += list(token_ids_1) + [self.sep_token_id]
        return out

    def create_token_type_ids_from_sequences(self, token_ids_0: List[int],
                                             token_ids_1: Optional[List[int]] = None) -> List[int]:
        first = [0] * (len(token_ids_0) + 2)
        return first if token_ids_1 is None else first + [1] * (len(token_ids_1) + 1)

    def get_special_tokens_mask(self, token_ids_0: List[int], token_ids_1: Optional[List[int]] = None,
                                already_has_special_tokens: bool = False) -> List[int]:
        if already_has_special_tokens:
            return [1 if self._tok.is_special_id(int(i)) else 0 for i in token_ids_0]
        mask = [1] + [0] * len(token_ids_0) + [1]
        return mask if token_ids_1 is None else mask + [0] * len(token_ids_1) + [1]

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return 3 if pair else 2

    def pad(self, encoded_inputs: Any, padding: Union[bool, str] = True, max_length: Optional[int] = None,
            pad_to_multiple_of: Optional[int] = None, return_attention_mask: Optional[bool] = None,
            return_tensors: Optional[str] = None, verbose: bool = True) -> BatchEncoding:
        """Pads already tokenized inputs (a dict of lists, or a list of dicts), like transformers."""
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], dict):
            encoded_inputs = {k: [to_list(e[k]) for e in encoded_inputs] for k in encoded_inputs[0]}
        data = {k: to_list(v) for k, v in dict(encoded_inputs).items()}
        ids = data["input_ids"]
        single = len(ids) == 0 or not isinstance(ids[0], list)
        if single:
            data = {k: [v] for k, v in data.items()}
        strategy = _padding_strategy(padding)
        if return_attention_mask is None or return_attention_mask:
            if "attention_mask" not in data:
                data["attention_mask"] = [[1] * len(r) for r in data["input_ids"]]
        longest = max((len(r) for r in data["input_ids"]), default=0)
        target = None
        if strategy == "longest":
            target = longest
        elif strategy == "max_length":
            target = max_length if max_length is not None else self.model_max_length
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        if target is not None:
            fill = {"input_ids": self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0,
                    "special_tokens_mask": 1, "offset_mapping": (0, 0)}
            for key, rows in data.items():
                if key in fill:
                    data[key] = [list(r) + [fill[key]] * max(0, target - len(r)) for r in rows]
        if single:
            data = {k: v[0] for k, v in data.items()}
        return BatchEncoding(data).convert_to_tensors(_tensor_type(return_tensors), prepend_batch_axis=single)

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs: Any) -> Tuple[str, ...]:
        """Writes vocab.txt and tokenizer_config.json (loadable again by from_pretrained)."""
        import json  # noqa: PLC0415

        os.makedirs(save_directory, exist_ok=True)
        vocab_path = os.path.join(save_directory, "vocab.txt")
        tokens = self._tok.convert_ids_to_tokens(list(range(self.vocab_size)))
        with open(vocab_path, "w", encoding="utf-8") as f:
            for t in tokens:
                f.write(t + "\n")
        config_path = os.path.join(save_directory, "tokenizer_config.json")
        with open(config_path, "w", encoding="utf-8") as f:
            json.dump({"tokenizer_class": "BertTokenizer", "model_max_length": self.model_max_length,
                       **{k: v for k, v in self.init_kwargs.items() if isinstance(v, (bool, int, str))}}, f, indent=2)
        return vocab_path, config_path

    def __repr__(self) -> str:
        return (f"BertTokenizer(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"model_max_length={self.model_max_length}, special_tokens={self.special_tokens_map})")


class BertTokenizerFast(BertTokenizer):
    """transformers.BertTokenizerFast: a folder's tokenizer.json through the tokenizers (Rust)
    pipeline, exact against that library (vocab.txt only: the slow BertTokenizer's results)."""

    _backend = "auto"
    is_fast = True


class XLMRobertaTokenizerFast(BertTokenizerFast):
    """transformers.XLMRobertaTokenizer(Fast): tokenizer.json, or a sentencepiece.bpe.model alone,
    converted as transformers converts it (the C++ fast backend)."""


XLMRobertaTokenizer = XLMRobertaTokenizerFast  # one (fast) class in transformers 5


class AutoTokenizer:
    """transformers.AutoTokenizer for BERT-family checkpoints: always a bertcpp BertTokenizer."""

    def __init__(self) -> None:
        raise EnvironmentError("AutoTokenizer is designed to be instantiated with AutoTokenizer.from_pretrained()")

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], *inputs: Any,
                        **kwargs: Any) -> BertTokenizer:
        return BertTokenizerFast.from_pretrained(pretrained_model_name_or_path, *inputs, **kwargs)
