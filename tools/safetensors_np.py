"""Minimal safetensors reader/writer on numpy (no torch, no `safetensors` package).

Format: 8-byte little-endian header length N, N bytes of JSON header
({name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}),
then the raw little-endian tensor bytes. BF16 has no numpy dtype: it is carried as uint16 bit
patterns (see f32_to_bf16_bits / bf16_bits_to_f32).
"""
from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

_NP_OF = {
    "F64": np.float64, "F32": np.float32, "F16": np.float16, "BF16": np.uint16,
    "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
    "BOOL": np.bool_,
}
_ST_OF = {np.dtype(np.float64): "F64", np.dtype(np.float32): "F32", np.dtype(np.float16): "F16",
          np.dtype(np.int64): "I64", np.dtype(np.int32): "I32", np.dtype(np.int16): "I16",
          np.dtype(np.int8): "I8", np.dtype(np.uint8): "U8", np.dtype(np.bool_): "BOOL"}


def f32_to_bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 -> bfloat16 bit patterns (uint16), round to nearest even (NaN kept quiet)."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    u = a.view(np.uint32).astype(np.uint64)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    out = rounded.astype(np.uint16)
    nan = np.isnan(a)
    if nan.any():
        out[nan] = ((u[nan] >> 16) | 0x40).astype(np.uint16)
    return out


def bf16_bits_to_f32(bits: np.ndarray) -> np.ndarray:
    return (np.ascontiguousarray(bits, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)


def write(path: str, tensors: Mapping[str, np.ndarray],
          dtypes: Optional[Mapping[str, str]] = None,
          metadata: Optional[Mapping[str, str]] = None) -> None:
    """Write `tensors` (name -> array). `dtypes[name]` = "BF16" marks a uint16 array as bf16 bits."""
    dtypes = dict(dtypes or {})
    header: Dict[str, object] = {"__metadata__": dict(metadata or {"format": "pt"})}
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        arr = np.ascontiguousarray(arr)
        st = dtypes.get(name) or _ST_OF.get(arr.dtype)
        if st is None:
            raise ValueError(f"safetensors: unsupported dtype {arr.dtype} for tensor {name}")
        if st == "BF16" and arr.dtype != np.uint16:
            raise ValueError(f"safetensors: BF16 tensor {name} must be given as uint16 bits")
        data = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": st, "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)  # data section starts 8-byte aligned
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def read(path: str, as_f32: bool = False) -> Dict[str, np.ndarray]:
    """Read every tensor. BF16 comes back as uint16 bits unless as_f32 (then F16/BF16 -> F32)."""
    out, dts = read_with_dtypes(path)
    if as_f32:
        for k, v in out.items():
            if dts[k] == "BF16":
                out[k] = bf16_bits_to_f32(v)
            elif dts[k] == "F16":
                out[k] = v.astype(np.float32)
    return out


def read_with_dtypes(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    with open(path, "rb") as f:
        buf = f.read()
    if len(buf) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (n,) = struct.unpack("<Q", buf[:8])
    if 8 + n > len(buf):
        raise ValueError(f"{path}: header length {n} exceeds file size {len(buf)}")
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    base = 8 + n
    out: Dict[str, np.ndarray] = {}
    dts: Dict[str, str] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        st = info["dtype"]
        b, e = info["data_offsets"]
        if st not in _NP_OF:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {st}")
        if base + e > len(buf) or b > e:
            raise ValueError(f"{path}: tensor {name} data_offsets {b}..{e} out of range")
        arr = np.frombuffer(buf, dtype=np.dtype(_NP_OF[st]).newbyteorder("<"),
                            count=(e - b) // np.dtype(_NP_OF[st]).itemsize, offset=base + b)
        out[name] = arr.reshape(info["shape"]).copy()
        dts[name] = st
    return out, dts
