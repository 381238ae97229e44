"""BertTokenizer / AutoTokenizer with the transformers API, backed by the C++ WordPiece tokenizer."""
from __future__ import annotations

import collections
import json
import os
import shutil
import tempfile
import warnings
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _bertcpp
from ._tensors import to_framework, to_list

__all__ = ["AddedToken", "BatchEncoding", "BertTokenizer", "BertTokenizerFast", "AutoTokenizer", "CharSpan", "TokenSpan",
           "XLMRobertaTokenizer", "XLMRobertaTokenizerFast"]

# transformers' "no maximum" model_max_length (tokenization_utils_base.VERY_LARGE_INTEGER).
VERY_LARGE_INTEGER = int(1e30)
CharSpan = collections.namedtuple("CharSpan", ["start", "end"])
TokenSpan = collections.namedtuple("TokenSpan", ["start", "end"])
_SPECIAL_KEYS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


class AddedToken:
    """tokenizers.AddedToken: a token string with matching options (only `content` and `special`
    change what bertcpp does; the others are written to tokenizer.json for the fast backend)."""

    def __init__(self, content: str, single_word: bool = False, lstrip: bool = False, rstrip: bool = False,
                 normalized: Optional[bool] = None, special: bool = False):
        self.content, self.single_word, self.lstrip, self.rstrip = str(content), single_word, lstrip, rstrip
        self.normalized, self.special = normalized, special

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        return f"AddedToken({self.content!r}, special={self.special})"

TextInput = str
PairInput = Tuple[str, str]

# from_pretrained keywords transformers accepts that change nothing here (no download options:
# bertcpp resolves hub ids through the Hugging Face cache itself).
_IGNORED_KWARGS = {
    "use_fast", "cache_dir", "force_download", "resume_download", "proxies", "local_files_only",
    "token", "use_auth_token", "trust_remote_code", "subfolder", "_from_auto",
    "clean_up_tokenization_spaces", "legacy", "add_prefix_space",
}


class BatchEncoding(dict):
    """What a tokenizer call returns: a dict (input_ids, token_type_ids, attention_mask, ...) with
    attribute access, like transformers.BatchEncoding. ``enc[i]`` with an int gives the i-th
    engine Encoding (tokens, offsets, sequence_ids)."""

    def __init__(self, data: Optional[Dict[str, Any]] = None, encoding: Optional[List[Any]] = None,
                 tensor_type: Optional[str] = None, n_sequences: Optional[int] = None, fast: Optional[bool] = None):
        super().__init__(data or {})
        object.__setattr__(self, "_encodings", encoding)
        object.__setattr__(self, "_n_sequences", n_sequences)
        object.__setattr__(self, "_fast", encoding is not None if fast is None else fast)
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
        object.__setattr__(self, "_fast", False)

    @property
    def data(self) -> Dict[str, Any]:
        return dict(self)

    @property
    def encodings(self) -> Optional[List[Any]]:
        return self._encodings

    @property
    def is_fast(self) -> bool:
        return bool(self._fast) and self._encodings is not None

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

    # The fast tokenizers' alignment maps (transformers.BatchEncoding), one encoding per row.
    def _fast_encoding(self, what: str, batch_index: int):
        if not self.is_fast:
            raise ValueError(f"{what}() is not available when using non-fast tokenizers (e.g. instance of a `XxxFast` class).")
        return self._encoding(batch_index)

    @staticmethod
    def _indices(first: int, second: Optional[int]) -> Tuple[int, int]:
        return (0, first) if second is None else (first, second)

    def word_ids(self, batch_index: int = 0) -> List[Optional[int]]:
        """Per token the index of the word it comes from; None for special and padding tokens."""
        return self._fast_encoding("word_ids", batch_index).word_ids

    def words(self, batch_index: int = 0) -> List[Optional[int]]:
        return self.word_ids(batch_index)

    def token_to_sequence(self, batch_or_token_index: int, token_index: Optional[int] = None) -> Optional[int]:
        b, t = self._indices(batch_or_token_index, token_index)
        return self._fast_encoding("token_to_sequence", b).token_to_sequence(t)

    def token_to_word(self, batch_or_token_index: int, token_index: Optional[int] = None) -> Optional[int]:
        b, t = self._indices(batch_or_token_index, token_index)
        return self._fast_encoding("token_to_word", b).token_to_word(t)

    def word_to_tokens(self, batch_or_word_index: int, word_index: Optional[int] = None,
                       sequence_index: int = 0) -> Optional[TokenSpan]:
        b, w = self._indices(batch_or_word_index, word_index)
        span = self._fast_encoding("word_to_tokens", b).word_to_tokens(w, sequence_index)
        return TokenSpan(*span) if span is not None else None

    def token_to_chars(self, batch_or_token_index: int, token_index: Optional[int] = None) -> Optional[CharSpan]:
        b, t = self._indices(batch_or_token_index, token_index)
        span = self._fast_encoding("token_to_chars", b).token_to_chars(t)
        return CharSpan(*span) if span is not None else None

    def char_to_token(self, batch_or_char_index: int, char_index: Optional[int] = None,
                      sequence_index: int = 0) -> Optional[int]:
        b, c = self._indices(batch_or_char_index, char_index)
        return self._fast_encoding("char_to_token", b).char_to_token(c, sequence_index)

    def word_to_chars(self, batch_or_word_index: int, word_index: Optional[int] = None,
                      sequence_index: int = 0) -> Optional[CharSpan]:
        b, w = self._indices(batch_or_word_index, word_index)
        span = self._fast_encoding("word_to_chars", b).word_to_chars(w, sequence_index)
        return CharSpan(*span) if span is not None else None

    def char_to_word(self, batch_or_char_index: int, char_index: Optional[int] = None,
                     sequence_index: int = 0) -> Optional[int]:
        b, c = self._indices(batch_or_char_index, char_index)
        return self._fast_encoding("char_to_word", b).char_to_word(c, sequence_index)

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


def _truncation_strategy(truncation: Any) -> Optional[str]:
    """None when not given: the engine then applies transformers' rule (max_length without padding
    or truncation means longest_first; with padding='max_length' it does not truncate)."""
    truncation = getattr(truncation, "value", truncation)
    if truncation is None:
        return None
    if truncation is False or truncation == "do_not_truncate":
        return "none"
    if truncation is True:
        return "longest_first"
    if truncation in ("longest_first", "only_first", "only_second"):
        return truncation
    raise ValueError("truncation must be True, False, 'longest_first', 'only_first', 'only_second' or "
                     f"'do_not_truncate', got {truncation!r}")


def _read_json(path: Optional[str]) -> Dict[str, Any]:
    if not path or not os.path.isfile(path):
        return {}
    with open(path, encoding="utf-8") as f:
        value = json.load(f)
    if not isinstance(value, dict):
        raise ValueError(f"{path}: expected a JSON object")
    return value


def _token_str(value: Any) -> Optional[str]:
    """A special token given as a str, an AddedToken or tokenizer_config.json's AddedToken dict."""
    if value is None:
        return None
    if isinstance(value, dict):
        return value.get("content")
    return getattr(value, "content", value) if not isinstance(value, str) else value


_SPM_FILES = ("sentencepiece.bpe.model", "spiece.model", "spm.model")  # src/io/sentencepiece_files.h
# config.json model_type -> tokenizer class, for a SentencePiece folder without tokenizer_class.
_SPM_CLASSES = {"xlm-roberta": "XLMRobertaTokenizer", "camembert": "CamembertTokenizer", "albert": "AlbertTokenizer",
                "deberta-v2": "DebertaV2Tokenizer", "t5": "T5Tokenizer", "mt5": "T5Tokenizer",
                "xlnet": "XLNetTokenizer"}


class _Source:
    """What a tokenizer was loaded from, plus what the user changed since: the engine is (re)built
    from these files, written to a temporary folder when they differ from the loaded ones."""

    def __init__(self, folder: Optional[str], vocab_file: Optional[str], config: Dict[str, Any]):
        self.folder = folder
        self.vocab_file = vocab_file
        self.tokenizer_json = os.path.join(folder, "tokenizer.json") if folder else None
        if self.tokenizer_json and not os.path.isfile(self.tokenizer_json):
            self.tokenizer_json = None
        # A SentencePiece-only folder (the engine converts the model as transformers does).
        self.spm_file = None
        if folder and self.tokenizer_json is None and vocab_file is None:
            self.spm_file = next((os.path.join(folder, n) for n in _SPM_FILES if os.path.isfile(os.path.join(folder, n))),
                                 None)
        self.converted: Optional[str] = None  # its converted tokenizer.json text
        self.config = config            # tokenizer_config.json + special_tokens_map.json + overrides
        self.added: List[AddedToken] = []  # added after loading, in order
        self.changed = False            # config differs from the files in `folder`
        self.template: Optional[Dict[str, str]] = None  # cls/sep of a generated post-processor
        self.normalizer: Dict[str, Any] = {}  # from_pretrained arguments for a fast BertNormalizer


class BertTokenizer:
    """transformers.BertTokenizer with the same tokens and ids (and fast-tokenizer offsets).

    ``BertTokenizer.from_pretrained(id_or_folder, do_lower_case=..., strip_accents=...,
    tokenize_chinese_chars=...)`` or ``BertTokenizer(vocab_file, do_lower_case=True, ...)``.
    """

    vocab_files_names = {"vocab_file": "vocab.txt"}
    model_input_names = ["input_ids", "token_type_ids", "attention_mask"]
    padding_side = "right"
    truncation_side = "right"
    is_fast = False
    _backend = "slow"  # the engine behind from_pretrained: BertTokenizer is transformers' slow one

    # Config keys that only the files carry to the engine (no engine option for them).
    _FILE_ONLY = ("do_basic_tokenize", "additional_special_tokens") + _SPECIAL_KEYS

    def __init__(self, vocab_file: Optional[str] = None, do_lower_case: Optional[bool] = True,
                 do_basic_tokenize: bool = True, never_split: Optional[Iterable[str]] = None,
                 unk_token: str = "[UNK]", sep_token: str = "[SEP]", pad_token: str = "[PAD]",
                 cls_token: str = "[CLS]", mask_token: str = "[MASK]", tokenize_chinese_chars: Optional[bool] = True,
                 strip_accents: Optional[bool] = None, model_max_length: Optional[int] = None,
                 _engine: Optional[Any] = None, _source: Optional[_Source] = None, name_or_path: str = "",
                 **kwargs: Any):
        padding_side = kwargs.pop("padding_side", None)
        truncation_side = kwargs.pop("truncation_side", None)
        if _source is None:
            if vocab_file is None:
                raise ValueError("BertTokenizer needs a vocab_file (or use BertTokenizer.from_pretrained)")
            config: Dict[str, Any] = {
                "do_lower_case": do_lower_case, "do_basic_tokenize": do_basic_tokenize,
                "never_split": list(never_split) if never_split is not None else None,
                "tokenize_chinese_chars": tokenize_chinese_chars, "strip_accents": strip_accents,
                "unk_token": unk_token, "sep_token": sep_token, "pad_token": pad_token, "cls_token": cls_token,
                "mask_token": mask_token}
            if model_max_length is not None:
                config["model_max_length"] = model_max_length
            extra = kwargs.pop("additional_special_tokens", None)
            if extra is not None:
                config["additional_special_tokens"] = [_token_str(t) for t in extra]
            _source = _Source(None, os.fspath(vocab_file), config)
            _source.changed = True
            name_or_path = name_or_path or os.fspath(vocab_file)
        if not _source.added and _source.changed:
            # additional_special_tokens given as arguments are added first (later add_tokens follow them).
            _source.added = [AddedToken(t, special=True) for t in _source.config.get("additional_special_tokens") or []]
        self._source = _source
        self.name_or_path = name_or_path
        cfg = _source.config
        spm_left = _source.spm_file is not None and (cfg.get("tokenizer_class") or "").startswith("XLNetTokenizer")
        if _source.spm_file and not cfg.get("tokenizer_class"):  # XLNetTokenizer.padding_side is "left"
            spm_left = _read_json(os.path.join(_source.folder, "config.json")).get("model_type") == "xlnet"
        self.padding_side = _side(padding_side or cfg.get("padding_side") or ("left" if spm_left else "right"),
                                  "padding_side")
        self.truncation_side = _side(truncation_side or cfg.get("truncation_side") or "right", "truncation_side")
        self.init_kwargs = dict(kwargs)
        self._tok = _engine if _engine is not None else self._build_engine()
        self._base_vocab_size = self._tok.vocab_size - len(self._files_added_tokens())
        self._refresh()

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
        overrides: Dict[str, Any] = {}
        for key in ("padding_side", "truncation_side", "do_basic_tokenize") + _SPECIAL_KEYS:
            if key in extra:
                overrides[key] = _token_str(extra.pop(key)) if key.endswith("_token") else extra.pop(key)
        if "additional_special_tokens" in extra:
            overrides["additional_special_tokens"] = [_token_str(t) for t in extra.pop("additional_special_tokens")]
        if extra:
            warnings.warn(f"BertTokenizer.from_pretrained: ignoring unsupported arguments {sorted(extra)}")
        for key, value in (("do_lower_case", do_lower_case), ("strip_accents", strip_accents),
                           ("tokenize_chinese_chars", tokenize_chinese_chars), ("model_max_length", model_max_length)):
            if value is not None:
                overrides[key] = value
        if never_split is not None:
            overrides["never_split"] = list(never_split)
        if os.path.isfile(path):
            source = _Source(None, path, {})
        else:
            folder = _bertcpp.resolve_dir(path)
            if not os.path.isdir(folder):
                raise FileNotFoundError(f"{path}: not a folder")
            config = _read_json(os.path.join(folder, "tokenizer_config.json"))
            config.update({k: v for k, v in _read_json(os.path.join(folder, "special_tokens_map.json")).items()
                           if k in _SPECIAL_KEYS or k == "additional_special_tokens"})
            vocab = os.path.join(folder, "vocab.txt")
            source = _Source(folder, vocab if os.path.isfile(vocab) else None, config)
            if source.vocab_file is None and source.tokenizer_json is None and (
                    source.spm_file is None or cls._backend == "slow"):
                raise FileNotFoundError(f"{folder}: no vocab.txt or tokenizer.json (not a BERT WordPiece tokenizer folder?)"
                                        + (" (a SentencePiece model loads with the fast backend only)"
                                           if source.spm_file else ""))
        for key in ("additional_special_tokens",) + _SPECIAL_KEYS:
            if key in source.config:
                source.config[key] = ([_token_str(t) for t in source.config[key] or []]
                                      if key == "additional_special_tokens" else _token_str(source.config[key]))
        source.changed = any(k in cls._FILE_ONLY for k in overrides)
        if cls._backend != "slow":
            # transformers 5 builds the fast tokenizer's BertNormalizer from these arguments.
            source.normalizer = {k: overrides[k] for k in ("do_lower_case", "strip_accents", "tokenize_chinese_chars")
                                 if k in overrides}
            source.changed = source.changed or bool(source.normalizer)
        source.config.update(overrides)
        return cls(_source=source, name_or_path=path)

    @classmethod
    def _from_engine(cls, engine: Any, name_or_path: str = "") -> "BertTokenizer":
        folder = None
        try:
            folder = _bertcpp.resolve_dir(name_or_path) if name_or_path else None
        except Exception:  # noqa: BLE001 - a model built in memory: no files to rebuild from
            folder = None
        config = _read_json(os.path.join(folder, "tokenizer_config.json")) if folder else {}
        vocab = os.path.join(folder, "vocab.txt") if folder else None
        source = _Source(folder, vocab if vocab and os.path.isfile(vocab) else None, config)
        cls_ = BertTokenizerFast if engine.is_fast else BertTokenizer
        return cls_(_engine=engine, _source=source, name_or_path=name_or_path)

    def _engine_options(self) -> Dict[str, Any]:
        c = self._source.config
        mml = c.get("model_max_length")
        if mml is not None and (not isinstance(mml, (int, float)) or mml > 1e20):
            mml = None
        return dict(do_lower_case=c.get("do_lower_case"), strip_accents=c.get("strip_accents"),
                    tokenize_chinese_chars=c.get("tokenize_chinese_chars"), never_split=c.get("never_split"),
                    model_max_length=int(mml) if mml is not None else None)

    def _wants_fast_files(self) -> bool:
        return self._backend != "slow" and self._source.tokenizer_json is None and self._source.spm_file is None

    def _converted_json(self) -> Dict[str, Any]:
        """The tokenizer.json the engine converted the SentencePiece model to (before added tokens)."""
        src = self._source
        if src.converted is None:
            src.converted = _bertcpp.Tokenizer.from_pretrained(src.folder, backend="fast").converted_tokenizer_json
        return json.loads(src.converted)

    def _build_engine(self) -> Any:
        src = self._source
        opts = self._engine_options()
        if not src.added and not src.changed and not self._wants_fast_files():
            if src.folder is None:
                return _bertcpp.Tokenizer.from_vocab(src.vocab_file, **opts)
            return _bertcpp.Tokenizer.from_pretrained(src.folder, backend=self._backend, **opts)
        # The engine reads every file when it loads: the folder can go right after.
        with tempfile.TemporaryDirectory(prefix="bertcpp-tok-") as tmp:
            self._write_files(tmp, for_engine=True)
            backend = "slow" if self._backend == "slow" else "fast"
            return _bertcpp.Tokenizer.from_pretrained(tmp, backend=backend, **opts)

    def _files_added_tokens(self) -> Dict[str, int]:
        """added_tokens.json of the source folder (the slow format)."""
        if self._source.folder is None or self._backend != "slow":
            return {}
        return {k: int(v) for k, v in _read_json(os.path.join(self._source.folder, "added_tokens.json")).items()}

    def _special_tokens(self) -> Dict[str, Optional[str]]:
        c = self._source.config
        if self._source.spm_file:  # the family's own defaults are in the converted tokenizer.json
            return {k: c.get(k) for k in _SPECIAL_KEYS}
        defaults = {"unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]", "cls_token": "[CLS]",
                    "mask_token": "[MASK]"}
        return {k: c.get(k, defaults.get(k)) for k in _SPECIAL_KEYS}

    def _config_to_save(self) -> Dict[str, Any]:
        c = dict(self._source.config)
        for key in ("do_lower_case", "tokenize_chinese_chars", "do_basic_tokenize"):
            c[key] = getattr(self, key)
        c["strip_accents"] = self.strip_accents
        c["never_split"] = c.get("never_split")
        c["model_max_length"] = self.model_max_length
        c["padding_side"] = self.padding_side
        c["truncation_side"] = self.truncation_side
        c["tokenizer_class"] = "BertTokenizerFast" if self.is_fast else "BertTokenizer"
        c.update({k: v for k, v in self._special_tokens().items() if v is not None})
        c["additional_special_tokens"] = list(self.additional_special_tokens)
        for key in ("added_tokens_decoder", "auto_map", "name_or_path", "extra_special_tokens"):
            c.pop(key, None)
        return c

    def _write_spm_files(self, folder: str, for_engine: bool) -> List[str]:
        """What transformers 5 writes for a tokenizer converted from a SentencePiece model:
        tokenizer.json (the converted pipeline with the added tokens) and tokenizer_config.json."""
        src = self._source
        config = {k: v for k, v in src.config.items()
                  if k not in ("added_tokens_decoder", "auto_map", "name_or_path", "extra_special_tokens")}
        if not config.get("tokenizer_class"):
            model_type = _read_json(os.path.join(src.folder, "config.json")).get("model_type")
            if model_type in _SPM_CLASSES:
                config["tokenizer_class"] = _SPM_CLASSES[model_type]
        if for_engine:
            config.pop("model_max_length", None)  # passed as an option (already validated)
        else:
            config["padding_side"] = self.padding_side  # XLNet's left side is the class's, not the file's
            config["truncation_side"] = self.truncation_side
        specials = {k: v for k, v in self._special_tokens().items() if v is not None}
        extra = list(config.get("additional_special_tokens") or [])
        data = self._tokenizer_json_with_added(config, specials, extra)
        tj = os.path.join(folder, "tokenizer.json")
        with open(tj, "w", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=False)
        cp = os.path.join(folder, "tokenizer_config.json")
        with open(cp, "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
        return [cp, tj]

    def _write_files(self, folder: str, for_engine: bool) -> List[str]:
        """vocab.txt, tokenizer_config.json, special_tokens_map.json, added_tokens.json (and
        tokenizer.json for a fast tokenizer) describing this tokenizer as it is now."""
        src = self._source
        if src.spm_file and self._backend != "slow":
            return self._write_spm_files(folder, for_engine)
        written = []
        config = self._config_to_save() if not for_engine else dict(src.config)
        if for_engine:
            config.pop("model_max_length", None)  # passed as an option (already validated)
        specials = {k: v for k, v in self._special_tokens().items() if v is not None}
        extra = [t for t in (config.get("additional_special_tokens") or [])]
        special_map = dict(specials, additional_special_tokens=extra)
        config.update(specials)
        config["additional_special_tokens"] = extra
        config.pop("added_tokens_decoder", None)

        vocab_path = os.path.join(folder, "vocab.txt")
        if src.vocab_file:
            shutil.copyfile(src.vocab_file, vocab_path)
        else:
            base = self._base_vocab_size if hasattr(self, "_base_vocab_size") else self._tok.vocab_size
            tokens = (self._tok.convert_ids_to_tokens(list(range(base))) if hasattr(self, "_tok")
                      else list(self._json_vocab_order()))
            with open(vocab_path, "w", encoding="utf-8") as f:
                f.writelines(t + "\n" for t in tokens)
        written.append(vocab_path)
        if self._backend != "slow":
            data = self._tokenizer_json_with_added(config, specials, extra)
            tj = os.path.join(folder, "tokenizer.json")
            with open(tj, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
            written.append(tj)
        else:
            added = dict(self._files_added_tokens())
            known = set(added) | set(_vocab_lines_unique(vocab_path))
            base = len(known)
            lower = config.get("do_lower_case") is not False
            special_set = set(specials.values()) | set(extra)
            for tok in src.added:
                content = tok.content
                if not tok.special and content not in special_set and lower:
                    content = content.lower()
                if content in known:
                    continue
                added[content] = base
                known.add(content)
                base += 1
            if added:
                ap = os.path.join(folder, "added_tokens.json")
                with open(ap, "w", encoding="utf-8") as f:
                    json.dump(added, f, ensure_ascii=False, indent=2)
                written.append(ap)
        cp = os.path.join(folder, "tokenizer_config.json")
        with open(cp, "w", encoding="utf-8") as f:
            json.dump(config, f, ensure_ascii=False, indent=2)
        sp = os.path.join(folder, "special_tokens_map.json")
        with open(sp, "w", encoding="utf-8") as f:
            json.dump(special_map, f, ensure_ascii=False, indent=2)
        return [cp, sp] + written

    def _json_vocab_order(self) -> List[str]:
        with open(self._source.tokenizer_json, encoding="utf-8") as f:
            vocab = json.load(f)["model"]["vocab"]
        return [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1])]

    def _tokenizer_json_with_added(self, config: Dict[str, Any], specials: Dict[str, str],
                                   extra: List[str]) -> Dict[str, Any]:
        src = self._source
        if src.tokenizer_json is not None:
            with open(src.tokenizer_json, encoding="utf-8") as f:
                data = json.load(f)
        elif src.spm_file:
            data = self._converted_json()
        else:
            # The post-processor is made once, at load (transformers does not rebuild it later).
            if getattr(src, "template", None) is None:
                src.template = dict(specials)
            data = _bert_tokenizer_json(src.vocab_file, config, src.template)
        norm = data.get("normalizer")
        if src.normalizer and isinstance(norm, dict) and norm.get("type") == "BertNormalizer":
            for ours, theirs in (("do_lower_case", "lowercase"), ("strip_accents", "strip_accents"),
                                 ("tokenize_chinese_chars", "handle_chinese_chars")):
                if ours in src.normalizer:
                    norm[theirs] = src.normalizer[ours]
        added = data.setdefault("added_tokens", []) or []
        data["added_tokens"] = added
        vocab = data.get("model", {}).get("vocab")
        vocab_size = len(vocab) if isinstance(vocab, (dict, list)) else 0
        by_content = {a["content"]: a for a in added}

        def token_id(content: str) -> Optional[int]:
            if content in by_content:
                return by_content[content]["id"]
            if isinstance(vocab, dict) and content in vocab:
                return vocab[content]
            return None

        def add(content: str, special: bool, tok: Optional[AddedToken] = None) -> None:
            if content in by_content:
                by_content[content]["special"] = by_content[content].get("special", False) or special
                return
            new_id = token_id(content)
            if new_id is None:  # tokenizers' AddedVocabulary.add_tokens
                ids = [a["id"] for a in added]
                top = max(ids) if ids else None
                new_id = vocab_size if top is None or (top < vocab_size and vocab_size) else top + 1
            entry = {"id": new_id, "content": content,
                     "single_word": bool(tok.single_word) if tok else False,
                     "lstrip": bool(tok.lstrip) if tok else False, "rstrip": bool(tok.rstrip) if tok else False,
                     "normalized": (tok.normalized if tok is not None and tok.normalized is not None else not special),
                     "special": special}
            added.append(entry)
            by_content[content] = entry

        for t in specials.values():
            add(t, True)
        for t in src.added:
            add(t.content, t.special, t)
        for t in extra:
            add(t, True)
        self._fast_added = [a["content"] for a in sorted(added, key=lambda a: a["id"])]
        post = data.get("post_processor") or {}
        if src.tokenizer_json is None and not src.spm_file and post.get("type") == "TemplateProcessing":
            for name, entry in post["special_tokens"].items():
                found = token_id(name)
                entry["ids"] = [found if found is not None else 0]
        return data

    # ------------------------------------------------------------------ properties
    def _refresh(self) -> None:
        specials = self._special_tokens()
        names = []
        for attr in ("unk_token_id", "sep_token_id", "pad_token_id", "cls_token_id"):
            try:
                names.append(self._tok.convert_ids_to_tokens([getattr(self._tok, attr)])[0])
            except _bertcpp.InvalidArgumentError:  # T5 has no sep/cls token
                names.append(None)
        self.unk_token, self.sep_token, self.pad_token, self.cls_token = names
        self.mask_token = self._tok.mask_token
        self.bos_token, self.eos_token = specials["bos_token"], specials["eos_token"]
        mml = self._tok.model_max_length
        self._model_max_length = VERY_LARGE_INTEGER if mml >= 2 ** 63 - 1 else mml

    @property
    def do_lower_case(self) -> bool:
        v = self._source.config.get("do_lower_case")
        return True if v is None else bool(v)

    @property
    def strip_accents(self) -> Optional[bool]:
        return self._source.config.get("strip_accents")

    @property
    def tokenize_chinese_chars(self) -> bool:
        v = self._source.config.get("tokenize_chinese_chars")
        return True if v is None else bool(v)

    @property
    def do_basic_tokenize(self) -> bool:
        v = self._source.config.get("do_basic_tokenize")
        return True if v is None else bool(v)

    @property
    def additional_special_tokens(self) -> List[str]:
        return list(self._source.config.get("additional_special_tokens") or [])

    @property
    def additional_special_tokens_ids(self) -> List[int]:
        return self.convert_tokens_to_ids(self.additional_special_tokens)

    @property
    def vocab_size(self) -> int:
        """The vocabulary without added tokens (len(tokenizer) counts them)."""
        return self._base_vocab_size

    def __len__(self) -> int:
        return self._tok.vocab_size

    @property
    def model_max_length(self) -> int:
        return self._model_max_length

    @model_max_length.setter
    def model_max_length(self, value: int) -> None:
        self._model_max_length = int(value)

    @property
    def max_len_single_sentence(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=False)

    @property
    def max_len_sentences_pair(self) -> int:
        return self.model_max_length - self.num_special_tokens_to_add(pair=True)

    def _bounded_max_length(self) -> Optional[int]:
        return None if self._model_max_length >= VERY_LARGE_INTEGER else self._model_max_length

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
    bos_token_id = eos_token_id = None

    @property
    def special_tokens_map(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"unk_token": self.unk_token, "sep_token": self.sep_token, "pad_token": self.pad_token,
                               "cls_token": self.cls_token, "mask_token": self.mask_token}
        if self.additional_special_tokens:
            out["additional_special_tokens"] = self.additional_special_tokens
        return out

    @property
    def all_special_tokens(self) -> List[str]:
        out = [self.unk_token, self.sep_token, self.pad_token, self.cls_token, self.mask_token]
        return out + [t for t in self.additional_special_tokens if t not in out]

    @property
    def all_special_ids(self) -> List[int]:
        return self.convert_tokens_to_ids(self.all_special_tokens)

    def get_vocab(self) -> Dict[str, int]:
        tokens = self._tok.convert_ids_to_tokens(list(range(len(self))))
        return {t: i for i, t in enumerate(tokens)}

    @property
    def vocab(self) -> Dict[str, int]:
        return self.get_vocab()

    @property
    def ids_to_tokens(self) -> "collections.OrderedDict[int, str]":
        """id -> token of the vocabulary (BertTokenizer.ids_to_tokens; added tokens not included)."""
        tokens = self._tok.convert_ids_to_tokens(list(range(self._base_vocab_size)))
        return collections.OrderedDict(enumerate(tokens))

    def get_added_vocab(self) -> Dict[str, int]:
        """Added tokens (special ones included) -> id, by id, as transformers lists them."""
        names = list(self.all_special_tokens) + [t.content for t in self._source.added]
        names += self._tok.convert_ids_to_tokens(list(range(self._base_vocab_size, len(self))))
        names += getattr(self, "_fast_added", [])
        out = {}
        for name in names:
            found = self._tok.find_token(name)
            if found is None and self.do_lower_case:
                found = self._tok.find_token(name.lower())
                name = name.lower() if found is not None else name
            if found is not None:
                out[name] = found
        return dict(sorted(out.items(), key=lambda kv: kv[1]))

    # ------------------------------------------------------------------ adding tokens
    def add_tokens(self, new_tokens: Union[str, AddedToken, Sequence[Union[str, AddedToken]]],
                   special_tokens: bool = False) -> int:
        """Adds tokens to the vocabulary (new ids after the last one); later encodes split them out
        as transformers does. Returns how many were new. The model's embedding matrix is not
        resized: ids past the model's vocab_size are rejected by the model."""
        if isinstance(new_tokens, (str, AddedToken)):
            new_tokens = [new_tokens]
        before = len(self), len(self._fast_added_now())
        for t in new_tokens:
            tok = t if isinstance(t, AddedToken) else AddedToken(str(t), special=special_tokens)
            if special_tokens:
                tok.special = True
            if not tok.content:
                continue
            self._source.added.append(tok)
        self._rebuild()
        if self._tok.is_fast and hasattr(self, "_fast_added"):
            # tokenizers counts a token already in the vocabulary as added too.
            return len(self._fast_added) - before[1]
        return len(self) - before[0]

    def add_special_tokens(self, special_tokens_dict: Dict[str, Any],
                           replace_additional_special_tokens: bool = True) -> int:
        """Sets cls/sep/pad/unk/mask/bos/eos tokens and additional_special_tokens (added to the
        vocabulary when new). Returns how many tokens were new."""
        before = len(self)
        cfg = self._source.config
        for key, value in special_tokens_dict.items():
            if key == "additional_special_tokens":
                values = [_token_str(v) for v in (value or [])]
                old = [] if replace_additional_special_tokens else list(cfg.get("additional_special_tokens") or [])
                cfg["additional_special_tokens"] = old + [v for v in values if v not in old]
                for v in values:
                    self._source.added.append(AddedToken(v, special=True))
            elif key in _SPECIAL_KEYS:
                cfg[key] = _token_str(value)
                self._source.added.append(AddedToken(_token_str(value), special=True))
            else:
                raise ValueError(f"add_special_tokens: {key!r} is not a special token attribute "
                                 f"({', '.join(_SPECIAL_KEYS)}, additional_special_tokens)")
        self._source.changed = True
        self._rebuild()
        return len(self) - before

    def _fast_added_now(self) -> List[str]:
        if hasattr(self, "_fast_added"):
            return self._fast_added
        if self._tok.is_fast and self._source.tokenizer_json:
            with open(self._source.tokenizer_json, encoding="utf-8") as f:
                return [a["content"] for a in json.load(f).get("added_tokens") or []]
        return []

    def _rebuild(self) -> None:
        mml = self._model_max_length
        self._tok = self._build_engine()
        self._refresh()
        self._model_max_length = mml

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
                 padding_side: Optional[str] = None, **kwargs: Any) -> BatchEncoding:
        """Tokenizes one text, a pair, or a batch (list of texts / of (text, text_pair) tuples),
        exactly like transformers' tokenizer call."""
        if text is None:
            raise ValueError("You need to specify `text` (a str, a list of str, or a list of (str, str) pairs)")
        if kwargs:
            raise TypeError(f"unexpected tokenizer arguments: {sorted(kwargs)}")
        # The slow tokenizer (transformers' PythonBackend) keeps one row per input and reports the cut
        # tokens (plus `stride` kept ones) as overflowing_tokens / num_truncated_tokens instead.
        slow_overflow = return_overflowing_tokens and not self._tok.is_fast
        slow_stride = int(stride)
        if slow_overflow:
            return_overflowing_tokens = False
        if slow_overflow and text_pair is not None and _truncation_strategy(truncation) == "longest_first":
            raise ValueError("Not possible to return overflowing tokens for pair of sequences with the "
                             "`longest_first`. Please select another truncation strategy than `longest_first`, "
                             "for instance `only_second` or `only_first`.")
        if stride and not return_overflowing_tokens:
            stride = 0  # transformers: the stride only shapes the overflowing windows
        batched, texts, pairs = self._split_inputs(text, text_pair, is_split_into_words)
        pad = _padding_strategy(padding)
        trunc = _truncation_strategy(truncation)
        if max_length is None and (pad == "max_length" or trunc not in (None, "none")):
            max_length = self._bounded_max_length()  # None: the engine skips it as transformers does
        if trunc == "none" and pad != "max_length":
            max_length = None  # explicit truncation=False: max_length must not truncate
        side = _side(padding_side or self.padding_side, "padding_side")
        encodings = self._tok.encode_batch(texts, pairs, add_special_tokens=add_special_tokens,
                                           truncation=trunc or "none", max_length=max_length, padding=pad,
                                           truncation_side=self.truncation_side, stride=int(stride),
                                           padding_side=side)
        overflow = None
        if slow_overflow and return_tensors is None and max_length and trunc not in (None, "none"):
            overflow = self._slow_overflow(texts, pairs, add_special_tokens, trunc, max_length, slow_stride)
        mapping = None
        if return_overflowing_tokens:
            flat, mapping = [], []
            for i, e in enumerate(encodings):
                for part in [e] + list(e.overflowing):
                    flat.append(part)
                    mapping.append(i)
            encodings = flat
        fast = self._tok.is_fast
        tensor_type = _tensor_type(return_tensors)
        if tensor_type is not None and not pad_to_multiple_of:
            enc = self._collect_arrays(encodings, tensor_type, pairs is not None,
                                       return_token_type_ids is not False, return_attention_mask is not False,
                                       return_special_tokens_mask, return_offsets_mapping, return_length, fast, mapping)
            return enc
        data = self._collect(encodings, pad, pad_to_multiple_of, side,
                             return_token_type_ids=True if return_token_type_ids is None else return_token_type_ids,
                             return_attention_mask=True if return_attention_mask is None else return_attention_mask,
                             return_special_tokens_mask=return_special_tokens_mask,
                             return_offsets_mapping=return_offsets_mapping, return_length=return_length)
        if mapping is not None:
            data["overflow_to_sample_mapping"] = mapping
        for tokens, removed in overflow or []:
            if tokens:  # transformers appends only the inputs that overflowed
                data.setdefault("overflowing_tokens", []).append(tokens)
                data.setdefault("num_truncated_tokens", []).append(removed)
        if mapping is None and not batched:
            data = {k: v[0] for k, v in data.items()}
        enc = BatchEncoding(data, encoding=encodings, n_sequences=2 if pairs is not None else 1, fast=fast)
        return enc.convert_to_tensors(tensor_type, prepend_batch_axis=not batched and mapping is None)

    def _slow_overflow(self, texts: List[str], pairs: Optional[List[str]], add_special_tokens: bool,
                       trunc: str, max_length: int, stride: int) -> List[Any]:
        """(overflowing_tokens, num_truncated_tokens) per input, as transformers' slow truncate_sequences."""
        def ids(batch: List[str]) -> List[List[int]]:
            return [list(e.ids) for e in self._tok.encode_batch(batch, None, add_special_tokens=False,
                                                                  truncation="none", max_length=None,
                                                                  padding="none",
                                                                  truncation_side=self.truncation_side,
                                                                  stride=0, padding_side="right")]
        firsts = ids(texts)
        seconds = ids(pairs) if pairs is not None else [None] * len(texts)
        out = []
        for a, b in zip(firsts, seconds):
            total = len(a) + len(b or []) + (self.num_special_tokens_to_add(pair=b is not None)
                                             if add_special_tokens else 0)
            remove = total - max_length
            if remove <= 0:
                out.append(([], 0))
                continue
            seq = a if trunc == "only_first" or (trunc == "longest_first" and b is None) else \
                b if trunc == "only_second" and b else None
            if seq is None:  # only_first / only_second and the other sequence: nothing to cut
                out.append(([], 0))
                continue
            window = min(len(seq), stride + remove)
            out.append((seq[:window] if self.truncation_side == "left" else seq[-window:], remove))
        return out

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
    def _lengths(encodings: List[Any], fast: bool) -> List[int]:
        # The fast tokenizers report the padded length, the slow one the length before padding.
        return [len(e) if fast else int(sum(e.attention_mask)) for e in encodings]

    @classmethod
    def _collect_arrays(cls, encodings: List[Any], tensor_type: str, is_pair: bool, token_type_ids: bool,
                        attention_mask: bool, special_tokens_mask: bool, offsets: bool,
                        length: bool, fast: bool, mapping: Optional[List[int]]) -> BatchEncoding:
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
            data["length"] = np.asarray(cls._lengths(encodings, fast), dtype=np.int64)
        if mapping is not None:
            data["overflow_to_sample_mapping"] = np.asarray(mapping, dtype=np.int64)
        enc = BatchEncoding(data, encoding=encodings, n_sequences=2 if is_pair else 1, fast=fast)
        return enc.convert_to_tensors(tensor_type)

    def _collect(self, encodings: List[Any], pad: str, pad_to_multiple_of: Optional[int], side: str, *,
                 return_token_type_ids: bool, return_attention_mask: bool, return_special_tokens_mask: bool,
                 return_offsets_mapping: bool, return_length: bool) -> Dict[str, List[Any]]:
        data: Dict[str, List[Any]] = {"input_ids": [e.input_ids for e in encodings]}
        if return_token_type_ids:
            data["token_type_ids"] = [e.token_type_ids for e in encodings]
        if return_attention_mask:
            data["attention_mask"] = [e.attention_mask for e in encodings]
        if return_special_tokens_mask:
            data["special_tokens_mask"] = [e.special_tokens_mask for e in encodings]
        if return_offsets_mapping:
            data["offset_mapping"] = [e.offsets for e in encodings]
        lengths = self._lengths(encodings, self._tok.is_fast) if return_length else None
        if pad != "none" and pad_to_multiple_of:
            longest = max((len(e) for e in encodings), default=0)
            target = -(-longest // pad_to_multiple_of) * pad_to_multiple_of
            fill = {"input_ids": self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0,
                    "special_tokens_mask": 1, "offset_mapping": (0, 0)}
            for key, rows in data.items():
                data[key] = [_pad_row(r, fill[key], target, side) for r in rows]
            if lengths is not None and self._tok.is_fast:
                lengths = [max(n, target) for n in lengths]
        if lengths is not None:
            data["length"] = lengths
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
            return_tensors: Optional[str] = None, verbose: bool = True,
            padding_side: Optional[str] = None) -> BatchEncoding:
        """Pads already tokenized inputs (a dict of lists, or a list of dicts), like transformers."""
        if isinstance(encoded_inputs, (list, tuple)) and encoded_inputs and isinstance(encoded_inputs[0], dict):
            encoded_inputs = {k: [to_list(e[k]) for e in encoded_inputs] for k in encoded_inputs[0]}
        data = {k: to_list(v) for k, v in dict(encoded_inputs).items()}
        ids = data["input_ids"]
        single = len(ids) == 0 or not isinstance(ids[0], list)
        if single:
            data = {k: [v] for k, v in data.items()}
        strategy = _padding_strategy(padding)
        side = _side(padding_side or self.padding_side, "padding_side")
        if return_attention_mask is None or return_attention_mask:
            if "attention_mask" not in data:
                data["attention_mask"] = [[1] * len(r) for r in data["input_ids"]]
        longest = max((len(r) for r in data["input_ids"]), default=0)
        target = None
        if strategy == "longest":
            target = longest
        elif strategy == "max_length":
            target = max_length if max_length is not None else self._bounded_max_length()
        if target is not None and pad_to_multiple_of:
            target = -(-target // pad_to_multiple_of) * pad_to_multiple_of
        if target is not None:
            fill = {"input_ids": self.pad_token_id, "token_type_ids": self.pad_token_type_id, "attention_mask": 0,
                    "special_tokens_mask": 1, "offset_mapping": (0, 0)}
            for key, rows in data.items():
                if key in fill:
                    data[key] = [_pad_row(r, fill[key], target, side) for r in rows]
        if single:
            data = {k: v[0] for k, v in data.items()}
        return BatchEncoding(data).convert_to_tensors(_tensor_type(return_tensors), prepend_batch_axis=single)

    def save_pretrained(self, save_directory: Union[str, os.PathLike], **kwargs: Any) -> Tuple[str, ...]:
        """Writes tokenizer_config.json (do_lower_case, strip_accents, tokenize_chinese_chars,
        padding_side, ...), special_tokens_map.json, vocab.txt, added_tokens.json (added tokens) and,
        for a fast tokenizer, tokenizer.json: from_pretrained (bertcpp's or transformers') loads the
        same tokenizer again."""
        save_directory = os.fspath(save_directory)
        if os.path.isfile(save_directory):
            raise ValueError(f"save_pretrained: {save_directory} is a file, not a folder")
        os.makedirs(save_directory, exist_ok=True)
        return tuple(self._write_files(save_directory, for_engine=False))

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, vocab_size={self.vocab_size}, "
                f"model_max_length={self.model_max_length}, padding_side={self.padding_side!r}, "
                f"special_tokens={self.special_tokens_map})")


def _side(value: Any, what: str) -> str:
    if value not in ("left", "right"):
        raise ValueError(f"{what} must be 'right' or 'left', got {value!r}")
    return value


def _pad_row(row: Sequence[Any], fill: Any, target: int, side: str) -> List[Any]:
    extra = [fill] * max(0, target - len(row))
    return extra + list(row) if side == "left" else list(row) + extra


def _vocab_lines_unique(path: str) -> Dict[str, int]:
    """vocab.txt as transformers' load_vocab reads it (later duplicates win)."""
    vocab: Dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f.readlines()):
            vocab[line.rstrip("\n")] = i
    return vocab


def _bert_tokenizer_json(vocab_file: str, config: Dict[str, Any], specials: Dict[str, str]) -> Dict[str, Any]:
    """The tokenizer.json transformers' BertConverter makes of a vocab.txt (what AutoTokenizer
    runs for a folder without tokenizer.json)."""
    vocab = _vocab_lines_unique(vocab_file)
    cls, sep = specials.get("cls_token", "[CLS]"), specials.get("sep_token", "[SEP]")
    lower = config.get("do_lower_case")
    chinese = config.get("tokenize_chinese_chars")

    def special(tok):
        return {"SpecialToken": {"id": tok, "type_id": 0}}

    def seq(name, type_id):
        return {"Sequence": {"id": name, "type_id": type_id}}

    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": [],
        "normalizer": {"type": "BertNormalizer", "clean_text": True,
                       "handle_chinese_chars": True if chinese is None else bool(chinese),
                       "strip_accents": config.get("strip_accents"), "lowercase": True if lower is None else bool(lower)},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [special(cls), seq("A", 0), special(sep)],
            "pair": [special(cls), seq("A", 0), special(sep), seq("B", 1), {"SpecialToken": {"id": sep, "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [vocab.get(t, 0)], "tokens": [t]} for t in dict.fromkeys((cls, sep))}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": specials.get("unk_token", "[UNK]"),
                  "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": vocab},
    }


class BertTokenizerFast(BertTokenizer):
    """transformers.BertTokenizerFast: the tokenizers (Rust) pipeline, exact against that library,
    from a folder's tokenizer.json (or, without one, the tokenizer.json transformers' converter
    makes of vocab.txt): word_ids(), char_to_token(), return_overflowing_tokens with stride."""

    _backend = "fast"
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
