"""numpy / torch conversion helpers (torch is optional and imported only when needed)."""
from __future__ import annotations

import sys
from typing import Any, Optional

import numpy as np

__all__ = ["is_torch_tensor", "torch_module", "ids_to_numpy", "mask_to_numpy", "to_framework", "to_list"]


def is_torch_tensor(x: Any) -> bool:
    """True if `x` is a torch.Tensor (without importing torch when it is not loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def torch_module():
    """Imports torch, with a clear error when it is not installed."""
    try:
        import torch  # noqa: PLC0415
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("return_tensors='pt' / torch outputs need PyTorch: install torch "
                          "(bertcpp itself only needs numpy)") from e
    return torch


def _as_array(x: Any, name: str) -> np.ndarray:
    if is_torch_tensor(x):
        x = x.detach()
        if x.device.type != "cpu":
            x = x.cpu()
        return x.numpy()
    if isinstance(x, np.ndarray):
        return x
    try:
        return np.asarray(x)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{name} must be a rectangular array of integers: {e}") from None


def ids_to_numpy(x: Any, name: str) -> Optional[np.ndarray]:
    """An id tensor (input_ids, token_type_ids) as a C-contiguous int64 array; integers only."""
    if x is None:
        return None
    a = _as_array(x, name)
    if a.dtype == object:
        raise ValueError(f"{name} must be a rectangular array of integers (ragged lists need padding=True "
                         "in the tokenizer)")
    if a.size == 0 and a.dtype.kind == "f":
        a = a.astype(np.int64)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers (int64 like transformers), got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape [batch, sequence], got shape {tuple(a.shape)}")
    return np.ascontiguousarray(a, dtype=np.int64)


def mask_to_numpy(x: Any, name: str = "attention_mask") -> Optional[np.ndarray]:
    """An attention mask as int64 0/1; integer, bool or float (0.0/1.0) masks are accepted."""
    if x is None:
        return None
    a = _as_array(x, name)
    if a.dtype == object:
        raise ValueError(f"{name} must be a rectangular array")
    if a.dtype.kind == "b":
        a = a.astype(np.int64)
    elif a.dtype.kind == "f":
        if not np.all((a == 0) | (a == 1)):
            raise ValueError(f"{name} must contain only 0 and 1")
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iu":
        raise TypeError(f"{name} must hold integers, got dtype {a.dtype}")
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape [batch, sequence], got shape {tuple(a.shape)}")
    return np.ascontiguousarray(a, dtype=np.int64)


def to_framework(x: Any, framework: Optional[str]) -> Any:
    """numpy array (or tuple of them) -> the same as numpy ("np"/None) or torch ("pt", zero-copy)."""
    if x is None or framework in (None, "np"):
        return x
    if isinstance(x, tuple):
        return tuple(to_framework(v, framework) for v in x)
    if framework == "pt":
        torch = torch_module()
        if not x.flags.writeable:  # torch.from_numpy warns on read-only arrays
            x = x.copy()
        return torch.from_numpy(x)
    raise ValueError(f"return_tensors must be 'np' or 'pt' (TensorFlow and JAX are not supported), got {framework!r}")


def to_list(x: Any) -> Any:
    """ids given as int / list / numpy / torch -> python int or list (nested for 2-D)."""
    if is_torch_tensor(x):
        return x.tolist()
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, np.integer):
        return int(x)
    return x
