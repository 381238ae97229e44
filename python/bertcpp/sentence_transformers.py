"""sentence-transformers' SentenceTransformer(name).encode(...) on the bertcpp engine."""
from __future__ import annotations

import os
import sys
from typing import Any, Dict, List, Optional, Union

import numpy as np

from . import _bertcpp
from ._tensors import ids_to_numpy, is_torch_tensor, mask_to_numpy, to_framework, torch_module
from .modeling import _local_folder
from .quantization import PRECISIONS, quantize_embeddings
from .tokenization import BertTokenizer
from .tokenization import _read_json as _read_json_file
from .util import cos_sim, dot_score

__all__ = ["SentenceTransformer", "cos_sim", "quantize_embeddings"]


def _read_json(folder: Optional[str], name: str) -> Dict[str, Any]:
    return _read_json_file(os.path.join(folder, name) if folder else None)


class SentenceTransformer:
    """Sentence embeddings with the pooling (and normalization) of a sentence-transformers folder
    (modules.json, 1_Pooling/config.json); a plain BERT folder gets mean pooling."""

    def __init__(self, model_name_or_path: Union[str, os.PathLike], device: Optional[str] = None,
                 prompts: Optional[Dict[str, str]] = None, default_prompt_name: Optional[str] = None,
                 cache_folder: Optional[str] = None, revision: Optional[str] = None,
                 truncate_dim: Optional[int] = None, threads: int = 0, compute: str = "f32", **kwargs: Any):
        if device not in (None, "cpu"):
            raise ValueError(f"bertcpp runs on the CPU; device={device!r} is not supported")
        path = os.fspath(model_name_or_path)
        if not os.path.exists(path) and "/" not in path:
            # sentence-transformers resolves bare names like 'all-MiniLM-L6-v2' under its organisation.
            cached = _local_folder("sentence-transformers/" + path, revision or "main")
            if cached is not None:
                path = "sentence-transformers/" + path
        self._engine = _bertcpp.Model.from_pretrained(path, threads=threads, compute=compute,
                                                      revision=revision or "main")
        self.model_name_or_path = path
        self._tokenizer: Optional[BertTokenizer] = None
        folder = self._engine.directory or _local_folder(path, revision or "main")
        st_config = _read_json(folder, "config_sentence_transformers.json")
        self.prompts: Dict[str, str] = dict(prompts if prompts is not None else (st_config.get("prompts") or {}))
        self.default_prompt_name: Optional[str] = (default_prompt_name if default_prompt_name is not None
                                                   else st_config.get("default_prompt_name"))
        if self.default_prompt_name is not None and self.default_prompt_name not in self.prompts:
            raise ValueError(f"default prompt name {self.default_prompt_name!r} is not in the prompts "
                             f"{sorted(self.prompts)}")
        self.similarity_fn_name: str = st_config.get("similarity_fn_name") or "cosine"
        self._do_lower_case = bool(_read_json(folder, "sentence_bert_config.json").get("do_lower_case", False))
        self.truncate_dim = truncate_dim
        self._max_seq_length: Optional[int] = None  # None: the engine's own (sentence_bert_config.json)
        # Pooling, Dense and Normalize modules (modules.json) run in the engine: Model.embed / pool_embeddings.

    @property
    def pooling(self) -> str:
        """'cls', 'mean' or 'max': the folder's 1_Pooling config (mean for a plain BERT folder)."""
        return self._engine.default_pooling

    @property
    def normalize(self) -> bool:
        """True when the folder's modules.json has a Normalize module."""
        return self._engine.default_normalize

    @property
    def tokenizer(self) -> BertTokenizer:
        if self._tokenizer is None:
            self._tokenizer = BertTokenizer._from_engine(self._engine.tokenizer, self.model_name_or_path)
        return self._tokenizer

    @property
    def max_seq_length(self) -> int:
        """Longer texts are truncated (sentence_bert_config.json's max_seq_length when present); settable."""
        return int(self._engine.max_seq_length if self._max_seq_length is None else self._max_seq_length)

    @max_seq_length.setter
    def max_seq_length(self, value: int) -> None:
        limit = int(self._engine.config["max_position_embeddings"])
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 2 <= int(value) <= limit:
            raise ValueError(f"max_seq_length must be an integer from 2 to max_position_embeddings ({limit}), "
                             f"got {value!r}")
        self._max_seq_length = None if int(value) == int(self._engine.max_seq_length) else int(value)

    def get_max_seq_length(self) -> int:
        return self.max_seq_length

    def _full_dimension(self) -> int:
        return int(self._engine.embedding_dimension)

    def get_sentence_embedding_dimension(self) -> int:
        dim = self._full_dimension()
        return dim if self.truncate_dim is None else min(dim, int(self.truncate_dim))

    # ------------------------------------------------------------------ the module API: tokenize + __call__
    def tokenize(self, texts: List[str]) -> Dict[str, np.ndarray]:
        """input_ids / token_type_ids / attention_mask [batch, longest] of texts, truncated at max_seq_length."""
        if self._do_lower_case:
            texts = [t.lower() for t in texts]
        enc = self._engine.tokenizer.encode_batch(list(texts), truncation="longest_first",
                                                  max_length=self.max_seq_length, padding="longest")
        return {k: _bertcpp.stack(enc, k) for k in ("input_ids", "token_type_ids", "attention_mask")}

    def forward(self, features: Dict[str, Any]) -> Dict[str, Any]:
        """model(features) as sentence-transformers: adds token_embeddings [batch, seq, hidden] and
        sentence_embedding [batch, dim] (pooled, normalized when the folder has Normalize)."""
        framework = "pt" if is_torch_tensor(features.get("input_ids")) else None
        ids = ids_to_numpy(features["input_ids"], "input_ids")
        mask = mask_to_numpy(features.get("attention_mask"))
        if mask is None:
            mask = np.ones_like(ids)
        out = self._engine.forward(ids, mask, ids_to_numpy(features.get("token_type_ids"), "token_type_ids"),
                                   False, False)
        tokens = out["last_hidden_state"]
        # sentence-transformers' prompt_length: pooling leaves the prompt out when include_prompt is false.
        sentence = self._engine.pool_embeddings(tokens, mask, prompt_length=int(features.get("prompt_length") or 0))
        result = dict(features)
        result["token_embeddings"] = to_framework(tokens, framework)
        result["sentence_embedding"] = to_framework(sentence, framework)
        return result

    __call__ = forward

    # ------------------------------------------------------------------ encode
    def _resolve_prompt(self, prompt: Optional[str], prompt_name: Optional[str]) -> Optional[str]:
        if prompt is not None:
            return prompt
        if prompt_name is not None:
            if prompt_name not in self.prompts:
                raise ValueError(f"prompt name {prompt_name!r} is not in the model's prompts {sorted(self.prompts)}")
            return self.prompts[prompt_name]
        if self.default_prompt_name is not None:
            return self.prompts.get(self.default_prompt_name)
        return None

    def _embed_batch(self, texts: List[str], output_value: str, prompt: Optional[str]) -> Any:
        if output_value == "sentence_embedding" and self._max_seq_length is None:
            # the engine's own path: prompt, lowercasing, pooling, Dense and Normalize modules
            return self._engine.embed(texts, None, None, prompt=prompt or "")
        features = self.tokenize([(prompt or "") + t for t in texts])
        if prompt:
            features["prompt_length"] = self._engine.prompt_length(prompt)
        out = self.forward(features)
        if output_value == "sentence_embedding":
            return out["sentence_embedding"]
        lengths = features["attention_mask"].sum(axis=1)
        return [out["token_embeddings"][i, :int(n)] for i, n in enumerate(lengths)]

    def encode(self, sentences: Union[str, List[str]], prompt_name: Optional[str] = None, prompt: Optional[str] = None,
               batch_size: int = 32, show_progress_bar: Optional[bool] = None,
               output_value: Optional[str] = "sentence_embedding", precision: str = "float32",
               convert_to_numpy: bool = True, convert_to_tensor: bool = False, device: Optional[str] = None,
               normalize_embeddings: bool = False, truncate_dim: Optional[int] = None, **kwargs: Any) -> Any:
        """Embeddings of `sentences`: float32 [n, dim] (or [dim] for one string), as sentence-transformers:
        the prompt is prepended, embeddings are truncated to truncate_dim, then L2-normalized when
        normalize_embeddings, then quantized to `precision`. output_value='token_embeddings' gives one
        [tokens, hidden] array per text (padding removed)."""
        if output_value not in ("sentence_embedding", "token_embeddings"):
            raise ValueError(f"output_value must be 'sentence_embedding' or 'token_embeddings', got {output_value!r}")
        if precision not in PRECISIONS:
            raise ValueError(f"precision {precision!r} is not supported, must be one of {list(PRECISIONS)}")
        unknown = set(kwargs) - {"chunk_size", "pool"}
        if unknown:
            raise TypeError(f"encode() got unexpected keyword arguments {sorted(unknown)}")
        if device not in (None, "cpu"):
            raise ValueError(f"bertcpp runs on the CPU; device={device!r} is not supported")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("sentences must be a str or a list of str")
        prompt = self._resolve_prompt(prompt, prompt_name)
        truncate_dim = self.truncate_dim if truncate_dim is None else truncate_dim
        tokens = output_value == "token_embeddings"
        out: Any = [None] * len(texts) if tokens else np.empty(
            (len(texts), self._full_dimension()), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        batches = range(0, len(texts), batch_size)
        for n, start in enumerate(batches):
            idx = order[start:start + batch_size]
            emb = self._embed_batch([texts[i] for i in idx], output_value, prompt)
            if tokens:
                for i, e in zip(idx, emb):
                    out[i] = e
            else:
                out[idx] = emb
            if show_progress_bar:
                print(f"\rBatches: {n + 1}/{len(batches)}", end="\n" if n + 1 == len(batches) else "",
                      file=sys.stderr, flush=True)
        if tokens:
            return self._convert_list(out, single, convert_to_numpy, convert_to_tensor)
        if truncate_dim is not None:
            out = out[:, :int(truncate_dim)]
        if normalize_embeddings:
            out = out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        if precision != "float32" and len(out):
            out = quantize_embeddings(out, precision)
        out = np.ascontiguousarray(out)
        result: Any = out[0] if single else out
        if convert_to_tensor:
            return torch_module().from_numpy(result)
        if not convert_to_numpy:
            if "torch" in sys.modules or _torch_importable():
                torch = torch_module()
                return torch.from_numpy(result) if single else [torch.from_numpy(r) for r in out]
            return result if single else list(out)
        return result

    @staticmethod
    def _convert_list(rows: List[np.ndarray], single: bool, convert_to_numpy: bool, convert_to_tensor: bool) -> Any:
        if convert_to_tensor or not convert_to_numpy:
            if "torch" in sys.modules or _torch_importable() or convert_to_tensor:
                torch = torch_module()
                rows = [torch.from_numpy(np.ascontiguousarray(r)) for r in rows]
        return rows[0] if single else rows

    def encode_query(self, sentences: Union[str, List[str]], **kwargs: Any) -> Any:
        """encode() with the 'query' prompt when the model has one."""
        if "prompt" not in kwargs and "prompt_name" not in kwargs and "query" in self.prompts:
            kwargs["prompt_name"] = "query"
        return self.encode(sentences, **kwargs)

    def encode_document(self, sentences: Union[str, List[str]], **kwargs: Any) -> Any:
        """encode() with the 'document' (or 'passage', 'corpus') prompt when the model has one."""
        if "prompt" not in kwargs and "prompt_name" not in kwargs:
            for name in ("document", "passage", "corpus"):
                if name in self.prompts:
                    kwargs["prompt_name"] = name
                    break
        return self.encode(sentences, **kwargs)

    def similarity(self, a: Any, b: Any) -> Any:
        """Similarity matrix of two sets of embeddings (the model's similarity_fn_name: cosine or dot)."""
        return dot_score(a, b) if self.similarity_fn_name == "dot" else cos_sim(a, b)

    def __repr__(self) -> str:
        return (f"SentenceTransformer({self.model_name_or_path!r}, dim={self.get_sentence_embedding_dimension()}, "
                f"max_seq_length={self.max_seq_length})")


def _torch_importable() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("torch") is not None
