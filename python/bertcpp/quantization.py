"""sentence-transformers' quantize_embeddings: float32 embeddings as int8/uint8 buckets or packed bits."""
from __future__ import annotations

from typing import Any, Optional

import numpy as np

__all__ = ["quantize_embeddings", "PRECISIONS"]

PRECISIONS = ("float32", "int8", "uint8", "binary", "ubinary")


def _as_float_matrix(embeddings: Any) -> np.ndarray:
    if hasattr(embeddings, "detach"):  # a torch tensor
        embeddings = embeddings.detach().cpu().numpy()
    a = np.asarray(embeddings)
    if a.dtype in (np.int8, np.uint8):
        raise ValueError("embeddings to quantize must be float, not int8 or uint8")
    return a.astype(np.float32, copy=False)


def quantize_embeddings(embeddings: Any, precision: str, ranges: Optional[np.ndarray] = None,
                        calibration_embeddings: Optional[np.ndarray] = None) -> np.ndarray:
    """int8/uint8: 256 buckets per dimension between the min and max of `ranges` ([2, dim]), else of
    `calibration_embeddings`, else of `embeddings` themselves (which then need 2+ rows).
    binary/ubinary: one bit per dimension (value > 0), packed 8 to a byte (binary: minus 128, int8)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision {precision!r} is not supported, must be one of {list(PRECISIONS)}")
    e = _as_float_matrix(embeddings)
    if precision == "float32":
        return e
    if precision in ("binary", "ubinary"):
        bits = np.packbits(e > 0, axis=-1)
        return (bits - 128).astype(np.int8) if precision == "binary" else bits
    if ranges is None:
        calib = e if calibration_embeddings is None else _as_float_matrix(calibration_embeddings)
        if calib.ndim == 1 or calib.shape[0] < 2:
            raise ValueError(f"cannot compute {precision} ranges from a single embedding: pass ranges= or "
                             "calibration_embeddings= from a representative set")
        ranges = np.vstack((calib.min(axis=0), calib.max(axis=0)))
    ranges = np.asarray(ranges, dtype=np.float32)
    starts = ranges[0]
    steps = (ranges[1] - starts) / 255
    steps = np.where(steps == 0, 1, steps)  # a constant dimension maps to bucket 0, not NaN
    buckets = np.clip(np.floor((e - starts) / steps), 0, 255)
    return buckets.astype(np.uint8) if precision == "uint8" else (buckets - 128).astype(np.int8)
