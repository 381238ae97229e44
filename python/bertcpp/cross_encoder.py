"""sentence-transformers' CrossEncoder(name).predict(pairs) / .rank(query, documents) on the bertcpp
engine (a sequence-classification checkpoint: rerankers, NLI and STS cross-encoders)."""
from __future__ import annotations

import json
import os
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np

from . import _bertcpp
from ._tensors import torch_module
from .tokenization import BertTokenizer

__all__ = ["CrossEncoder"]

_ACTIVATIONS = {
    "Sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "Identity": lambda x: x,
    "Tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0),
}


def _activation_by_name(name: str, where: str) -> Callable[[np.ndarray], np.ndarray]:
    short = name.rsplit(".", 1)[-1]
    if not name.startswith("torch.") or short not in _ACTIVATIONS:
        raise NotImplementedError(f"{where}: activation function {name!r} is not supported "
                                  f"(supported: torch.nn {', '.join(sorted(_ACTIVATIONS))})")
    return _ACTIVATIONS[short]


def _apply(fn: Any, scores: np.ndarray) -> np.ndarray:
    """A numpy callable, or a torch module such as torch.nn.Sigmoid() as sentence-transformers takes."""
    if type(fn).__module__.startswith("torch"):
        torch = torch_module()
        return fn(torch.from_numpy(np.ascontiguousarray(scores))).detach().cpu().numpy()
    return np.asarray(fn(scores), dtype=np.float32)


class CrossEncoder:
    """Scores (text, text_pair) pairs with a sequence-classification model. The activation is
    sentence-transformers': the folder's config.json `sentence_transformers.activation_fn` (or the
    older `sbert_ce_default_activation_function`), else Sigmoid for one label and Identity otherwise."""

    def __init__(self, model_name_or_path: Union[str, os.PathLike], num_labels: Optional[int] = None,
                 max_length: Optional[int] = None, activation_fn: Optional[Callable] = None,
                 device: Optional[str] = None, revision: Optional[str] = None, threads: int = 0,
                 compute: str = "f32", **kwargs: Any):
        if device not in (None, "cpu"):
            raise ValueError(f"bertcpp runs on the CPU; device={device!r} is not supported")
        path = os.fspath(model_name_or_path)
        self._engine = _bertcpp.Model.from_pretrained(path, threads=threads, compute=compute,
                                                      revision=revision or "main")
        self.model_name_or_path = path
        config = self._read_config()
        labels = self._engine.config.get("labels") or []
        self.num_labels = len(labels) if labels else int(config.get("num_labels", 1) or 1)
        if num_labels is not None and int(num_labels) != self.num_labels:
            raise ValueError(f"{path}: the checkpoint has {self.num_labels} labels, num_labels={num_labels} was asked "
                             "(bertcpp does not re-initialize classifier heads)")
        self.tokenizer = BertTokenizer._from_engine(self._engine.tokenizer, path)
        bounded = self.tokenizer.model_max_length if self.tokenizer.model_max_length < int(1e30) else None
        self.max_length = int(max_length) if max_length is not None else min(
            x for x in (bounded, int(self._engine.max_seq_length)) if x is not None)
        self.activation_fn = activation_fn if activation_fn is not None else self._default_activation(config)
        self.config = config

    def _read_config(self) -> Dict[str, Any]:
        folder = self._engine.directory
        path = os.path.join(folder, "config.json") if folder else None
        if not path or not os.path.isfile(path):
            return {}
        with open(path, encoding="utf-8") as f:
            return json.load(f)

    def _default_activation(self, config: Dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
        where = os.path.join(self._engine.directory or self.model_name_or_path, "config.json")
        name = (config.get("sentence_transformers") or {}).get("activation_fn") or \
            config.get("sbert_ce_default_activation_function")
        if name:
            return _activation_by_name(name, where)
        return _ACTIVATIONS["Sigmoid"] if self.num_labels == 1 else _ACTIVATIONS["Identity"]

    def _logits(self, pairs: List[Sequence[str]]) -> np.ndarray:
        texts = [str(p[0]) for p in pairs]
        others = [str(p[1]) for p in pairs]
        enc = self._engine.tokenizer.encode_batch(texts, others, truncation="longest_first",
                                                  max_length=self.max_length, padding="longest")
        arrays = {k: _bertcpp.stack(enc, k) for k in ("input_ids", "token_type_ids", "attention_mask")}
        # DistilBERT-like checkpoints have no token types (their tokenizers do not return them).
        types = arrays["token_type_ids"] if int(self._engine.config.get("type_vocab_size") or 0) > 1 else None
        out = self._engine.forward(arrays["input_ids"], arrays["attention_mask"], types, False, False)
        if "logits" not in out:
            raise ValueError(f"{self.model_name_or_path}: not a sequence-classification checkpoint "
                             f"(head {self._engine.head!r}), CrossEncoder needs one")
        return np.asarray(out["logits"], dtype=np.float32)

    def predict(self, sentences: Any = None, batch_size: int = 32, show_progress_bar: Optional[bool] = None,
                activation_fn: Optional[Callable] = None, apply_softmax: Optional[bool] = False,
                convert_to_numpy: bool = True, convert_to_tensor: bool = False, device: Optional[str] = None,
                inputs: Any = None, **kwargs: Any) -> Any:
        """Scores of [text, text_pair] pairs: float32 [n] for one label, [n, labels] otherwise
        (a scalar / one row for a single pair)."""
        pairs = inputs if sentences is None else sentences
        if pairs is None:
            raise ValueError("predict() needs pairs: [[text, text_pair], ...] or one [text, text_pair]")
        unknown = set(kwargs) - {"prompt", "prompt_name", "pool", "chunk_size", "num_workers"}
        if unknown:
            raise TypeError(f"predict() got unexpected keyword arguments {sorted(unknown)}")
        if device not in (None, "cpu"):
            raise ValueError(f"bertcpp runs on the CPU; device={device!r} is not supported")
        if batch_size <= 0:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size}.")
        if isinstance(pairs, np.ndarray):
            pairs = pairs.tolist()
        single = isinstance(pairs, (list, tuple)) and len(pairs) > 0 and not isinstance(pairs[0], (list, tuple))
        if single:
            pairs = [pairs]
        pairs = list(pairs)
        for p in pairs:
            if not isinstance(p, (list, tuple)) or len(p) != 2:
                raise ValueError(f"each input must be a [text, text_pair] pair, got {p!r}")
        fn = self.activation_fn if activation_fn is None else activation_fn
        order = sorted(range(len(pairs)), key=lambda i: -sum(len(str(x)) for x in pairs[i]))
        scores = np.zeros((len(pairs), self.num_labels), dtype=np.float32)
        starts = range(0, len(pairs), batch_size)
        for n, start in enumerate(starts):
            idx = order[start:start + batch_size]
            logits = self._logits([pairs[i] for i in idx])
            if fn is not None:
                logits = _apply(fn, logits)
            scores[idx] = logits
            if show_progress_bar:
                print(f"\rBatches: {n + 1}/{len(starts)}", end="\n" if n + 1 == len(starts) else "",
                      file=sys.stderr, flush=True)
        if self.num_labels == 1:
            scores = scores[:, 0]
        elif apply_softmax:
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            scores = e / e.sum(axis=1, keepdims=True)
        scores = scores.astype(np.float32)
        result: Any = scores
        if convert_to_tensor:
            result = torch_module().from_numpy(np.ascontiguousarray(scores))
        elif not convert_to_numpy:
            torch = torch_module()
            result = [torch.from_numpy(np.ascontiguousarray(s)) for s in scores]
        if single:
            return result[0]
        return result if len(pairs) else (np.array([]) if convert_to_numpy and not convert_to_tensor else result)

    def rank(self, query: str, documents: Sequence[str], top_k: Optional[int] = None, return_documents: bool = False,
             batch_size: int = 32, show_progress_bar: Optional[bool] = None,
             activation_fn: Optional[Callable] = None, **kwargs: Any) -> List[Dict[str, Any]]:
        """Documents by decreasing score: [{'corpus_id', 'score'(, 'text')}], the top_k first ones."""
        if self.num_labels != 1:
            raise ValueError("CrossEncoder.rank() only works for models with num_labels=1. "
                             "Consider using CrossEncoder.predict() with input pairs instead.")
        scores = self.predict([[query, d] for d in documents], batch_size=batch_size,
                              show_progress_bar=show_progress_bar, activation_fn=activation_fn, **kwargs)
        results = []
        for i, score in enumerate(np.asarray(scores).reshape(-1).tolist()):
            results.append({"corpus_id": i, "score": score})
            if return_documents:
                results[-1]["text"] = documents[i]
        results.sort(key=lambda r: r["score"], reverse=True)
        return results[:top_k]

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.predict(*args, **kwargs)

    def __repr__(self) -> str:
        return f"CrossEncoder({self.model_name_or_path!r}, num_labels={self.num_labels}, max_length={self.max_length})"
