"""sentence_transformers.util: similarity functions (numpy in, numpy out; torch in, torch out)."""
from __future__ import annotations

from typing import Any

import numpy as np

from ._tensors import is_torch_tensor, torch_module
from .quantization import quantize_embeddings

__all__ = ["cos_sim", "dot_score", "pairwise_cos_sim", "pairwise_dot_score", "normalize_embeddings",
           "quantize_embeddings", "truncate_embeddings"]


def _matrix(x: Any) -> np.ndarray:
    if is_torch_tensor(x):
        x = x.detach().cpu().numpy()
    return np.atleast_2d(np.asarray(x, dtype=np.float32))


def _like_inputs(result: np.ndarray, *inputs: Any) -> Any:
    return torch_module().from_numpy(result) if any(is_torch_tensor(x) for x in inputs) else result


def normalize_embeddings(embeddings: Any) -> Any:
    """Rows divided by their L2 norm (eps 1e-12, as torch.nn.functional.normalize)."""
    a = _matrix(embeddings)
    return _like_inputs(a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12), embeddings)


def cos_sim(a: Any, b: Any) -> Any:
    """[len(a), len(b)] cosine similarity of every row of a with every row of b."""
    x, y = _matrix(a), _matrix(b)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    y = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return _like_inputs(x @ y.T, a, b)


def dot_score(a: Any, b: Any) -> Any:
    """[len(a), len(b)] dot products."""
    return _like_inputs(_matrix(a) @ _matrix(b).T, a, b)


def pairwise_cos_sim(a: Any, b: Any) -> Any:
    """Cosine similarity of a[i] with b[i]."""
    x, y = _matrix(a), _matrix(b)
    x = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    y = y / np.maximum(np.linalg.norm(y, axis=1, keepdims=True), 1e-12)
    return _like_inputs((x * y).sum(axis=1), a, b)


def pairwise_dot_score(a: Any, b: Any) -> Any:
    """Dot product of a[i] with b[i]."""
    return _like_inputs((_matrix(a) * _matrix(b)).sum(axis=1), a, b)


def truncate_embeddings(embeddings: Any, truncate_dim: Any) -> Any:
    """The first truncate_dim dimensions (Matryoshka); None keeps them all."""
    return embeddings[..., :truncate_dim]
