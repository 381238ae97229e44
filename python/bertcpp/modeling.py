"""BertModel and its task heads with the transformers API, running on the bertcpp engine."""
from __future__ import annotations

import json
import os
from collections import OrderedDict
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from . import _bertcpp
from ._tensors import ids_to_numpy, is_torch_tensor, mask_to_numpy, to_framework

__all__ = [
    "BertConfig", "AutoConfig", "ModelOutput", "BaseModelOutputWithPoolingAndCrossAttentions", "MaskedLMOutput",
    "BertForPreTrainingOutput", "SequenceClassifierOutput", "TokenClassifierOutput", "QuestionAnsweringModelOutput",
    "BertPreTrainedModel", "BertModel", "BertForMaskedLM", "BertForPreTraining", "BertForSequenceClassification",
    "BertForTokenClassification", "BertForQuestionAnswering", "AutoModel", "AutoModelForMaskedLM",
    "AutoModelForPreTraining", "AutoModelForSequenceClassification", "AutoModelForTokenClassification",
    "AutoModelForQuestionAnswering",
]


# ============================================================================== config
class BertConfig:
    """transformers.BertConfig: every field of config.json as an attribute (defaults as transformers')."""

    model_type = "bert"
    _defaults: Dict[str, Any] = dict(
        vocab_size=30522, hidden_size=768, num_hidden_layers=12, num_attention_heads=12, intermediate_size=3072,
        hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1, max_position_embeddings=512,
        type_vocab_size=2, initializer_range=0.02, layer_norm_eps=1e-12, pad_token_id=0,
        position_embedding_type="absolute", use_cache=True, classifier_dropout=None, architectures=None,
        output_hidden_states=False, output_attentions=False, return_dict=True, problem_type=None,
        torch_dtype=None, is_decoder=False, add_cross_attention=False, name_or_path="",
    )

    def __init__(self, **kwargs: Any):
        for k, v in self._defaults.items():
            setattr(self, k, v)
        id2label = kwargs.pop("id2label", None)
        label2id = kwargs.pop("label2id", None)
        num_labels = kwargs.pop("num_labels", None)
        for k, v in kwargs.items():
            setattr(self, k, v)
        if id2label is None:
            id2label = {i: f"LABEL_{i}" for i in range(num_labels if num_labels is not None else 2)}
        self.id2label = {int(k): v for k, v in id2label.items()}
        self.label2id = {k: int(v) for k, v in label2id.items()} if label2id else {v: k for k, v in self.id2label.items()}

    @property
    def num_labels(self) -> int:
        return len(self.id2label)

    @property
    def use_return_dict(self) -> bool:
        return bool(self.return_dict)

    @classmethod
    def from_dict(cls, d: Dict[str, Any], **kwargs: Any) -> "BertConfig":
        return cls(**{**d, **kwargs})

    @classmethod
    def from_json_file(cls, path: Union[str, os.PathLike]) -> "BertConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_dict(json.load(f))

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], **kwargs: Any) -> "BertConfig":
        """config.json of a local folder (or of a model id already in the Hugging Face cache)."""
        path = os.fspath(pretrained_model_name_or_path)
        folder = _local_folder(path, kwargs.pop("revision", "main"))
        file = path if os.path.isfile(path) else (os.path.join(folder, "config.json") if folder else None)
        if file is None or not os.path.isfile(file):
            raise _bertcpp.NotFoundError(f"{path}: no config.json (not a local folder nor a cached model id)")
        config = cls.from_json_file(file)
        config.name_or_path = path
        for k, v in kwargs.items():
            setattr(config, k, v)
        return config

    def to_dict(self) -> Dict[str, Any]:
        d = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        d["model_type"] = self.model_type
        d["id2label"] = {str(k): v for k, v in self.id2label.items()}
        return d

    def to_json_string(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BertConfig) and self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        return f"BertConfig {self.to_json_string()}"


AutoConfig = BertConfig


def _hf_cache_root() -> str:
    if os.environ.get("HF_HUB_CACHE"):
        return os.environ["HF_HUB_CACHE"]
    if os.environ.get("HUGGINGFACE_HUB_CACHE"):
        return os.environ["HUGGINGFACE_HUB_CACHE"]
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface")
    return os.path.join(home, "hub")


def _local_folder(id_or_path: str, revision: str = "main") -> Optional[str]:
    """The folder holding a model: the path itself, or its snapshot in the Hugging Face cache."""
    if os.path.isdir(id_or_path):
        return id_or_path
    repo = os.path.join(_hf_cache_root(), "models--" + id_or_path.replace("/", "--"))
    ref = os.path.join(repo, "refs", revision)
    commit = revision
    if os.path.isfile(ref):
        with open(ref, encoding="utf-8") as f:
            commit = f.read().strip()
    snap = os.path.join(repo, "snapshots", commit)
    return snap if os.path.isdir(snap) else None


def _config_from_engine(engine: Any, id_or_path: str, revision: str) -> BertConfig:
    info = engine.config
    folder = engine.directory or _local_folder(id_or_path, revision)
    raw: Dict[str, Any] = {}
    if folder and os.path.isfile(os.path.join(folder, "config.json")):
        try:
            with open(os.path.join(folder, "config.json"), encoding="utf-8") as f:
                raw = json.load(f)
        except (OSError, ValueError):
            raw = {}
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size",
                "max_position_embeddings", "type_vocab_size", "hidden_act"):
        raw[key] = info[key]
    if info.get("architectures"):
        raw["architectures"] = list(info["architectures"])
    if info.get("labels"):
        raw["id2label"] = {i: label for i, label in enumerate(info["labels"])}
        raw.setdefault("label2id", {label: i for i, label in enumerate(info["labels"])})
    raw.pop("model_type", None)
    config = BertConfig.from_dict(raw)
    config.model_type = info["model_type"]  # the checkpoint's ("roberta", "distilbert", ...), not BertConfig's
    config.family = info.get("family", "bert")
    config.name_or_path = id_or_path
    return config


# ============================================================================== weights (numpy)
_ST_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
_HEAD_PREFIXES = ("cls.", "classifier.", "qa_outputs.")


def _read_safetensors(path: str) -> "OrderedDict[str, np.ndarray]":
    """Every tensor of a .safetensors file as float32 (floats) or its integer dtype."""
    import struct  # noqa: PLC0415

    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    body = memoryview(data)[8 + n:]
    out: "OrderedDict[str, np.ndarray]" = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        if info["dtype"] == "BF16":
            arr = (np.frombuffer(body[begin:end], dtype="<u2").astype(np.uint32) << 16).view(np.float32)
        elif info["dtype"] in _ST_DTYPES:
            arr = np.frombuffer(body[begin:end], dtype=np.dtype(_ST_DTYPES[info["dtype"]]).newbyteorder("<"))
        else:
            raise _bertcpp.InvalidFileError(f"{path}: tensor {name} has dtype {info['dtype']}")
        arr = arr.reshape(info["shape"])
        out[name] = arr.astype(np.float32) if arr.dtype.kind == "f" else arr.copy()
    return out


def _write_safetensors(path: str, tensors: Dict[str, np.ndarray]) -> None:
    import struct  # noqa: PLC0415

    codes = {np.dtype(v): k for k, v in _ST_DTYPES.items()}
    header: Dict[str, Any] = {"__metadata__": {"format": "pt"}}
    blobs, offset = [], 0
    for name, arr in tensors.items():
        a = np.ascontiguousarray(arr)
        raw = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": codes[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def _checkpoint_tensors(folder: str) -> "OrderedDict[str, np.ndarray]":
    single = os.path.join(folder, "model.safetensors")
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.isfile(single):
        return _read_safetensors(single)
    if os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        out: "OrderedDict[str, np.ndarray]" = OrderedDict()
        for shard in shards:
            out.update(_read_safetensors(os.path.join(folder, shard)))
        return out
    raise NotImplementedError(f"{folder}: state_dict() reads safetensors checkpoints only (this one has none)")


# ============================================================================== outputs
class ModelOutput(OrderedDict):
    """transformers.ModelOutput: attribute access, key access (only fields that are set), and
    integer/slice indexing into ``to_tuple()``."""

    _fields: Tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__()
        values = dict(zip(self._fields, args))
        values.update(kwargs)
        unknown = set(values) - set(self._fields)
        if unknown:
            raise TypeError(f"{type(self).__name__} has no fields {sorted(unknown)}")
        for name in self._fields:
            value = values.get(name)
            if value is not None:
                super().__setitem__(name, value)

    def __getattr__(self, name: str) -> Any:
        if name in type(self)._fields:
            return self.get(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in type(self)._fields:
            self[name] = value
        else:
            super().__setattr__(name, value)

    def __setitem__(self, key: str, value: Any) -> None:
        if key not in type(self)._fields:
            raise KeyError(f"{type(self).__name__} has no field {key!r}")
        if value is None:
            self.pop(key, None)
        else:
            super().__setitem__(key, value)

    def __getitem__(self, k: Union[str, int, slice]) -> Any:
        if isinstance(k, str):
            return super().__getitem__(k)
        return self.to_tuple()[k]

    def __reduce__(self):
        return (type(self), (), None, None, iter(self.items()))

    def to_tuple(self) -> Tuple[Any, ...]:
        return tuple(self[k] for k in self.keys())


def _output_class(name: str, fields: Tuple[str, ...], doc: str) -> type:
    return type(name, (ModelOutput,), {"_fields": fields, "__doc__": doc})


BaseModelOutputWithPoolingAndCrossAttentions = _output_class(
    "BaseModelOutputWithPoolingAndCrossAttentions",
    ("last_hidden_state", "pooler_output", "hidden_states", "past_key_values", "attentions", "cross_attentions"),
    "BertModel outputs: last_hidden_state [batch, seq, hidden], pooler_output [batch, hidden], "
    "hidden_states (embeddings + one per layer), attentions (one [batch, heads, seq, seq] per layer).")
MaskedLMOutput = _output_class("MaskedLMOutput", ("loss", "logits", "hidden_states", "attentions"),
                               "BertForMaskedLM outputs: logits [batch, seq, vocab].")
BertForPreTrainingOutput = _output_class(
    "BertForPreTrainingOutput", ("loss", "prediction_logits", "seq_relationship_logits", "hidden_states", "attentions"),
    "BertForPreTraining outputs: prediction_logits [batch, seq, vocab], seq_relationship_logits [batch, 2].")
SequenceClassifierOutput = _output_class("SequenceClassifierOutput", ("loss", "logits", "hidden_states", "attentions"),
                                         "BertForSequenceClassification outputs: logits [batch, num_labels].")
TokenClassifierOutput = _output_class("TokenClassifierOutput", ("loss", "logits", "hidden_states", "attentions"),
                                      "BertForTokenClassification outputs: logits [batch, seq, num_labels].")
QuestionAnsweringModelOutput = _output_class(
    "QuestionAnsweringModelOutput", ("loss", "start_logits", "end_logits", "hidden_states", "attentions"),
    "BertForQuestionAnswering outputs: start_logits, end_logits [batch, seq].")


# ============================================================================== models
_TOKENIZER_KEYS = {"offset_mapping", "special_tokens_mask", "length", "overflow_to_sample_mapping"}
_IGNORED_LOAD_KWARGS = {
    "cache_dir", "force_download", "resume_download", "proxies", "local_files_only", "token", "use_auth_token",
    "trust_remote_code", "low_cpu_mem_usage", "device_map", "_from_auto", "use_safetensors", "ignore_mismatched_sizes",
    "output_loading_info", "from_tf", "from_flax", "attn_implementation",
}


class BertPreTrainedModel:
    """Base of every bertcpp model class: from_pretrained, __call__ / forward, config, eval/to no-ops."""

    base_model_prefix = "bert"
    main_input_name = "input_ids"
    #: engine heads this class can run on (None = any: the encoder is always there)
    _heads: Optional[Tuple[str, ...]] = None
    _output_class: type = BaseModelOutputWithPoolingAndCrossAttentions

    def __init__(self, engine: Any, config: BertConfig):
        if not isinstance(config, BertConfig) or engine is None:
            raise TypeError(f"build a {type(self).__name__} with {type(self).__name__}.from_pretrained(id_or_path)")
        self._engine = engine
        self.config = config
        self.name_or_path = config.name_or_path
        self.training = False
        self._add_pooling_layer = True

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path: Union[str, os.PathLike], *model_args: Any,
                        config: Optional[BertConfig] = None, revision: str = "main", threads: int = 0,
                        compute: str = "f32", torch_dtype: Any = None, **kwargs: Any):
        """Loads a model id or a local folder in Hugging Face layout (safetensors or a torch .bin,
        read without unpickling). ``threads`` (0 = all cores) and ``compute`` ('f32' = the
        reference-parity mode, 'bf16', 'int8') are bertcpp extras."""
        path = os.fspath(pretrained_model_name_or_path)
        if model_args:
            raise TypeError("positional model arguments are not supported")
        add_pooling_layer = bool(kwargs.pop("add_pooling_layer", True))
        overrides = {k: kwargs.pop(k) for k in list(kwargs) if k in BertConfig._defaults or k in
                     ("id2label", "label2id", "num_labels")}
        extra = {k: v for k, v in kwargs.items() if k not in _IGNORED_LOAD_KWARGS}
        if extra:
            raise TypeError(f"{cls.__name__}.from_pretrained got unsupported arguments {sorted(extra)}")
        if torch_dtype is not None and str(torch_dtype).replace("torch.", "") not in ("float32", "auto"):
            if str(torch_dtype).replace("torch.", "") == "bfloat16":
                compute = "bf16"
            else:
                raise ValueError(f"torch_dtype={torch_dtype} is not supported (float32, bfloat16)")
        engine = _bertcpp.Model.from_pretrained(path, threads=threads, compute=compute, revision=revision)
        if cls._heads is not None and engine.head not in cls._heads:
            raise _bertcpp.UnsupportedError(
                f"{path}: the checkpoint has the '{engine.head}' head (architectures "
                f"{engine.config.get('architectures')}), {cls.__name__} needs one of {list(cls._heads)}; "
                "bertcpp runs trained heads only (it does not initialise new ones)")
        cfg = _config_from_engine(engine, path, revision)
        if config is not None:
            for k, v in config.to_dict().items():
                if k not in ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                             "intermediate_size", "max_position_embeddings", "type_vocab_size", "hidden_act"):
                    setattr(cfg, k, v)
            cfg.id2label = dict(config.id2label)
            cfg.label2id = dict(config.label2id)
        for k, v in overrides.items():
            if k in ("id2label",):
                cfg.id2label = {int(a): b for a, b in v.items()}
            elif k == "label2id":
                cfg.label2id = dict(v)
            elif k != "num_labels":
                setattr(cfg, k, v)
        model = cls(engine, cfg)
        model._add_pooling_layer = add_pooling_layer
        return model

    # ------------------------------------------------------------------ torch-like no-ops
    def eval(self):
        self.training = False
        return self

    def train(self, mode: bool = True):
        if mode:
            raise NotImplementedError("bertcpp is an inference engine: training is not supported")
        return self.eval()

    def to(self, *args: Any, **kwargs: Any):
        """Accepts 'cpu' (and float32); bertcpp runs on the CPU."""
        for a in list(args) + list(kwargs.values()):
            s = str(a)
            if s not in ("cpu", "torch.float32", "float32") and not s.startswith("cpu"):
                raise ValueError(f"bertcpp runs on the CPU in float32; cannot move to {a}")
        return self

    def cpu(self):
        return self

    def requires_grad_(self, requires_grad: bool = True):
        return self

    @property
    def device(self) -> Any:
        torch = __import__("sys").modules.get("torch")
        return torch.device("cpu") if torch is not None else "cpu"

    @property
    def dtype(self) -> Any:
        torch = __import__("sys").modules.get("torch")
        return torch.float32 if torch is not None else np.float32

    def num_parameters(self) -> int:
        c = self.config
        h, i, n = c.hidden_size, c.intermediate_size, c.num_hidden_layers
        emb = (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * h + 2 * h
        layer = 4 * (h * h + h) + 2 * (2 * h) + (h * i + i) + (i * h + h)
        return emb + n * layer + (h * h + h)

    @property
    def head(self) -> str:
        """The engine's head: base, masked_lm, pretraining, sequence_classification, ..."""
        return self._engine.head

    # ------------------------------------------------------------------ weights, as transformers names them
    def state_dict(self) -> "OrderedDict[str, Any]":
        """name -> weight (numpy float32; torch tensors when torch is installed), transformers' names
        for this class: base weights prefixed 'bert.' in head classes, legacy gamma/beta renamed,
        tied masked-LM decoder weights included."""
        if getattr(self, "_state", None) is None:
            self._state = self._build_state()
        torch = _maybe_torch()
        return OrderedDict((k, torch.from_numpy(v.copy()) if torch else v.copy()) for k, v in self._state.items())

    def _build_state(self) -> "OrderedDict[str, np.ndarray]":
        folder = self._engine.directory
        raw = _checkpoint_tensors(folder)
        base: "OrderedDict[str, np.ndarray]" = OrderedDict()
        head: "OrderedDict[str, np.ndarray]" = OrderedDict()
        for name, value in raw.items():
            name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
            if name.startswith("bert."):
                base[name[5:]] = value
            elif name.startswith(_HEAD_PREFIXES):
                head[name] = value
            else:
                base[name] = value
        keep_pooler = self._add_pooling_layer and not isinstance(self, BertForMaskedLM)
        if not keep_pooler:
            base = OrderedDict((k, v) for k, v in base.items() if not k.startswith("pooler."))
        if type(self) is BertModel or self._heads is None:
            return base
        out = OrderedDict(("bert." + k, v) for k, v in base.items())
        for k, v in head.items():
            if isinstance(self, BertForMaskedLM) and k.startswith("cls.seq_relationship"):
                continue
            out[k] = v
        if isinstance(self, (BertForMaskedLM, BertForPreTraining)):
            out.setdefault("cls.predictions.decoder.weight", base["embeddings.word_embeddings.weight"])
            if "cls.predictions.bias" in out:
                out.setdefault("cls.predictions.decoder.bias", out["cls.predictions.bias"])
        return out

    def named_parameters(self, prefix: str = "", recurse: bool = True):
        """(name, weight) pairs as torch's named_parameters: tied weights listed once."""
        tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
        for k, v in self.state_dict().items():
            if k not in tied:
                yield (prefix + ("." if prefix else "") + k, v)

    def parameters(self, recurse: bool = True):
        for _, v in self.named_parameters():
            yield v

    def get_input_embeddings(self) -> "_Embedding":
        key = "embeddings.word_embeddings.weight" if type(self) is BertModel else "bert.embeddings.word_embeddings.weight"
        return _Embedding(self.state_dict()[key])

    def save_pretrained(self, save_directory: Union[str, os.PathLike], safe_serialization: bool = True,
                        **kwargs: Any) -> None:
        """config.json + model.safetensors (the state_dict, tied decoder weights left out as transformers)."""
        if not safe_serialization:
            raise NotImplementedError("bertcpp writes safetensors only (safe_serialization=True)")
        d = os.fspath(save_directory)
        os.makedirs(d, exist_ok=True)
        cfg = self.config.to_dict()
        cfg.pop("name_or_path", None)
        cfg["architectures"] = [type(self).__name__]
        with open(os.path.join(d, "config.json"), "w", encoding="utf-8") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
        state = self.state_dict()
        tied = {"cls.predictions.decoder.weight", "cls.predictions.decoder.bias"}
        _write_safetensors(os.path.join(d, "model.safetensors"),
                           {k: np.asarray(v.numpy() if hasattr(v, "numpy") else v) for k, v in state.items()
                            if k not in tied})

    # ------------------------------------------------------------------ inference
    def __call__(self, input_ids: Any = None, attention_mask: Any = None, token_type_ids: Any = None,
                 position_ids: Any = None, head_mask: Any = None, inputs_embeds: Any = None,
                 output_attentions: Optional[bool] = None, output_hidden_states: Optional[bool] = None,
                 return_dict: Optional[bool] = None, labels: Any = None, **kwargs: Any) -> Any:
        """model(**tokenizer(text, return_tensors="np"|"pt")): outputs like transformers', as numpy
        arrays (torch tensors when input_ids is a torch tensor)."""
        unexpected = set(kwargs) - _TOKENIZER_KEYS
        if unexpected:
            raise TypeError(f"{type(self).__name__}.forward() got unexpected keyword arguments {sorted(unexpected)}")
        if input_ids is None:
            raise ValueError("You have to specify input_ids (inputs_embeds is not supported by bertcpp)")
        for name, value in (("position_ids", position_ids), ("head_mask", head_mask), ("inputs_embeds", inputs_embeds)):
            if value is not None:
                raise NotImplementedError(f"{name} is not supported by bertcpp")
        if labels is not None:
            raise NotImplementedError("bertcpp is inference-only: labels / loss are not computed")
        framework = "pt" if is_torch_tensor(input_ids) else None
        ids = ids_to_numpy(input_ids, "input_ids")
        out = self._engine.forward(
            ids, mask_to_numpy(attention_mask), ids_to_numpy(token_type_ids, "token_type_ids"),
            bool(self.config.output_hidden_states if output_hidden_states is None else output_hidden_states),
            bool(self.config.output_attentions if output_attentions is None else output_attentions),
            self._heads is not None)  # a base-model class never runs the checkpoint's head
        fields = self._map_outputs(out)
        fields = {k: to_framework(v, framework) for k, v in fields.items()}
        result = self._output_class(**fields)
        if return_dict is False or (return_dict is None and not self.config.return_dict):
            return result.to_tuple()
        return result

    forward = __call__

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        pooled = out.get("pooler_output") if self._add_pooling_layer else None
        return {"last_hidden_state": out.get("last_hidden_state"), "pooler_output": pooled,
                "hidden_states": out.get("hidden_states"), "attentions": out.get("attentions")}

    def _require(self, out: Dict[str, Any], key: str) -> Any:
        if key not in out:
            raise _bertcpp.BertcppError(f"the engine returned no {key} for head '{self.head}'")
        return out[key]

    def __repr__(self) -> str:
        c = self.config
        return (f"{type(self).__name__}(name_or_path={self.name_or_path!r}, head={self.head!r}, "
                f"layers={c.num_hidden_layers}, hidden={c.hidden_size}, heads={c.num_attention_heads}, "
                f"vocab={c.vocab_size})")


class BertModel(BertPreTrainedModel):
    """transformers.BertModel: the encoder (any checkpoint; task heads are ignored)."""


class BertForMaskedLM(BertPreTrainedModel):
    """transformers.BertForMaskedLM: ``.logits`` [batch, seq, vocab]."""

    _heads = ("masked_lm", "pretraining")
    _output_class = MaskedLMOutput

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        return {"logits": self._require(out, "prediction_logits"), "hidden_states": out.get("hidden_states"),
                "attentions": out.get("attentions")}


class BertForPreTraining(BertPreTrainedModel):
    """transformers.BertForPreTraining: ``.prediction_logits`` and ``.seq_relationship_logits``."""

    _heads = ("pretraining",)
    _output_class = BertForPreTrainingOutput

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        return {"prediction_logits": self._require(out, "prediction_logits"),
                "seq_relationship_logits": self._require(out, "seq_relationship_logits"),
                "hidden_states": out.get("hidden_states"), "attentions": out.get("attentions")}


class BertForSequenceClassification(BertPreTrainedModel):
    """transformers.BertForSequenceClassification: ``.logits`` [batch, num_labels]; labels in
    ``config.id2label``."""

    _heads = ("sequence_classification",)
    _output_class = SequenceClassifierOutput

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        return {"logits": self._require(out, "logits"), "hidden_states": out.get("hidden_states"),
                "attentions": out.get("attentions")}


class BertForTokenClassification(BertPreTrainedModel):
    """transformers.BertForTokenClassification: ``.logits`` [batch, seq, num_labels]."""

    _heads = ("token_classification",)
    _output_class = TokenClassifierOutput

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        return {"logits": self._require(out, "logits"), "hidden_states": out.get("hidden_states"),
                "attentions": out.get("attentions")}


class BertForQuestionAnswering(BertPreTrainedModel):
    """transformers.BertForQuestionAnswering: ``.start_logits`` / ``.end_logits`` [batch, seq]."""

    _heads = ("question_answering",)
    _output_class = QuestionAnsweringModelOutput

    def _map_outputs(self, out: Dict[str, Any]) -> Dict[str, Any]:
        return {"start_logits": self._require(out, "start_logits"), "end_logits": self._require(out, "end_logits"),
                "hidden_states": out.get("hidden_states"), "attentions": out.get("attentions")}


def _auto(name: str, target: type) -> type:
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        return target.from_pretrained(pretrained_model_name_or_path, *args, **kwargs)

    def __init__(self, *args, **kwargs):
        raise EnvironmentError(f"{name} is designed to be instantiated with {name}.from_pretrained()")

    return type(name, (), {"from_pretrained": classmethod(from_pretrained), "__init__": __init__,
                           "__doc__": f"transformers.{name}: returns a bertcpp {target.__name__}."})


AutoModel = _auto("AutoModel", BertModel)
AutoModelForMaskedLM = _auto("AutoModelForMaskedLM", BertForMaskedLM)
AutoModelForPreTraining = _auto("AutoModelForPreTraining", BertForPreTraining)
AutoModelForSequenceClassification = _auto("AutoModelForSequenceClassification", BertForSequenceClassification)
AutoModelForTokenClassification = _auto("AutoModelForTokenClassification", BertForTokenClassification)
AutoModelForQuestionAnswering = _auto("AutoModelForQuestionAnswering", BertForQuestionAnswering)


class _Embedding:
    """model.get_input_embeddings(): ``.weight`` [vocab, hidden]; calling it looks ids up."""

    def __init__(self, weight: Any):
        self.weight = weight
        self.num_embeddings, self.embedding_dim = int(weight.shape[0]), int(weight.shape[1])

    def __call__(self, input_ids: Any) -> Any:
        return self.weight[input_ids]


def _maybe_torch() -> Any:
    import importlib.util  # noqa: PLC0415
    import sys  # noqa: PLC0415

    if "torch" in sys.modules:
        return sys.modules["torch"]
    return __import__("torch") if importlib.util.find_spec("torch") is not None else None
