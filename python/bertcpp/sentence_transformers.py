"""sentence-transformers' SentenceTransformer(name).encode(...) on the bertcpp engine."""
from __future__ import annotations

import os
import sys
from typing import Any, List, Optional, Union

import numpy as np

from . import _bertcpp
from ._tensors import torch_module
from .modeling import _local_folder
from .tokenization import BertTokenizer

__all__ = ["SentenceTransformer", "cos_sim"]


class SentenceTransformer:
    """Sentence embeddings with the pooling (and normalization) of a sentence-transformers folder
    (modules.json, 1_Pooling/config.json); a plain BERT folder gets mean pooling."""

    def __init__(self, model_name_or_path: Union[str, os.PathLike], device: Optional[str] = None,
                 cache_folder: Optional[str] = None, revision: Optional[str] = None, threads: int = 0,
                 compute: str = "f32", **kwargs: Any):
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
        """Longer texts are truncated (sentence_bert_config.json's max_seq_length when present)."""
        return int(self._engine.max_seq_length)

    def get_sentence_embedding_dimension(self) -> int:
        return int(self._engine.config["hidden_size"])

    def encode(self, sentences: Union[str, List[str]], batch_size: int = 32, show_progress_bar: Optional[bool] = None,
               output_value: str = "sentence_embedding", convert_to_numpy: bool = True,
               convert_to_tensor: bool = False, device: Optional[str] = None, normalize_embeddings: bool = False,
               **kwargs: Any) -> Any:
        """Embeddings of `sentences`: float32 [n, dim] (or [dim] for one string)."""
        if output_value != "sentence_embedding":
            raise NotImplementedError("bertcpp's encode returns sentence embeddings only")
        if kwargs.get("prompt") or kwargs.get("prompt_name"):
            raise NotImplementedError("prompts are not supported by bertcpp's SentenceTransformer")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        single = isinstance(sentences, str)
        texts = [sentences] if single else list(sentences)
        if not all(isinstance(t, str) for t in texts):
            raise TypeError("sentences must be a str or a list of str")
        dim = self.get_sentence_embedding_dimension()
        out = np.empty((len(texts), dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # less padding per batch
        normalize = True if normalize_embeddings else None
        batches = range(0, len(texts), batch_size)
        for n, start in enumerate(batches):
            idx = order[start:start + batch_size]
            emb = self._engine.embed([texts[i] for i in idx], None, normalize)
            out[idx] = emb
            if show_progress_bar:
                print(f"\rBatches: {n + 1}/{len(batches)}", end="\n" if n + 1 == len(batches) else "",
                      file=sys.stderr, flush=True)
        result: Any = out[0] if single else out
        if convert_to_tensor:
            return torch_module().from_numpy(result)
        if not convert_to_numpy:
            if "torch" in sys.modules or _torch_importable():
                torch = torch_module()
                return torch.from_numpy(result) if single else [torch.from_numpy(r) for r in out]
            return result if single else list(out)
        return result

    def similarity(self, a: Any, b: Any) -> np.ndarray:
        """Cosine similarity matrix of two sets of embeddings."""
        return cos_sim(a, b)

    def __repr__(self) -> str:
        return (f"SentenceTransformer({self.model_name_or_path!r}, dim={self.get_sentence_embedding_dimension()}, "
                f"max_seq_length={self.max_seq_length})")


def _torch_importable() -> bool:
    import importlib.util  # noqa: PLC0415

    return importlib.util.find_spec("torch") is not None


def cos_sim(a: Any, b: Any) -> np.ndarray:
    """Cosine similarity of every row of `a` with every row of `b` (like sentence_transformers.util.cos_sim)."""
    a = np.atleast_2d(np.asarray(a, dtype=np.float32))
    b = np.atleast_2d(np.asarray(b, dtype=np.float32))
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T
