"""sentence-transformers' Dense module (a Linear layer + activation on the sentence embedding), in
numpy: its config.json and its weights (model.safetensors; pytorch_model.bin through torch)."""
from __future__ import annotations

import json
import math
import os
import struct
from typing import Any, Callable, Dict, List

import numpy as np

__all__ = ["Dense", "read_safetensors"]

_DTYPES = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "BF16": "bf16"}
_MAX_HEADER = 100 << 20


def read_safetensors(path: str) -> Dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as float32 numpy arrays (each header field checked)."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (shorter than its 8-byte header size)")
    (n,) = struct.unpack("<Q", data[:8])
    if n > min(_MAX_HEADER, len(data) - 8):
        raise ValueError(f"{path}: header size {n} exceeds the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = memoryview(data)[8 + n:]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _DTYPES.get(info.get("dtype"))
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {info.get('dtype')!r} (expected F32, F16, BF16 or F64)")
        begin, end = info["data_offsets"]
        shape = [int(d) for d in info["shape"]]
        if not 0 <= begin <= end <= len(body):
            raise ValueError(f"{path}: tensor {name!r} data_offsets {begin}..{end} outside the data ({len(body)} bytes)")
        raw = body[begin:end]
        if dtype == "bf16":
            arr = (np.frombuffer(raw, dtype=np.uint16).astype(np.uint32) << 16).view(np.float32)
        else:
            arr = np.frombuffer(raw, dtype=dtype)
        if arr.size != int(np.prod(shape)):
            raise ValueError(f"{path}: tensor {name!r} has {arr.size} values for shape {shape}")
        out[name] = arr.reshape(shape).astype(np.float32)
    return out


def _gelu(x: np.ndarray) -> np.ndarray:
    erf = np.vectorize(math.erf, otypes=[np.float64])
    return (0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))).astype(np.float32)


# torch.nn activations by the dotted name sentence-transformers writes (fullname of the module).
_ACTIVATIONS: Dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "Identity": lambda x: x,
    "Tanh": np.tanh,
    "ReLU": lambda x: np.maximum(x, 0),
    "Sigmoid": lambda x: (1.0 / (1.0 + np.exp(-x))).astype(np.float32),
    "GELU": _gelu,
    "SiLU": lambda x: (x / (1.0 + np.exp(-x))).astype(np.float32),
}


class Dense:
    """One Dense module folder (e.g. 2_Dense): y = activation(x W^T + b)."""

    def __init__(self, folder: str):
        cfg_path = os.path.join(folder, "config.json")
        if not os.path.isfile(cfg_path):
            raise FileNotFoundError(f"{cfg_path}: Dense module config is missing")
        with open(cfg_path, encoding="utf-8") as f:
            cfg = json.load(f)
        self.in_features, self.out_features = int(cfg["in_features"]), int(cfg["out_features"])
        name = cfg.get("activation_function") or "torch.nn.modules.activation.Tanh"
        short = name.rsplit(".", 1)[-1]
        if not name.startswith("torch.") or short not in _ACTIVATIONS:
            raise NotImplementedError(f"{cfg_path}: activation_function {name!r} is not supported "
                                      f"(supported: torch.nn {', '.join(sorted(_ACTIVATIONS))})")
        if cfg.get("use_residual"):
            raise NotImplementedError(f"{cfg_path}: use_residual is not supported")
        for key in ("module_input_name", "module_output_name"):
            if cfg.get(key) not in (None, "sentence_embedding"):
                raise NotImplementedError(f"{cfg_path}: {key} {cfg[key]!r} is not supported (only sentence_embedding)")
        self.activation = _ACTIVATIONS[short]
        self.activation_name = name
        weights = self._load_weights(folder)
        self.weight = weights.get("linear.weight")
        if self.weight is None or tuple(self.weight.shape) != (self.out_features, self.in_features):
            got = None if self.weight is None else tuple(self.weight.shape)
            raise ValueError(f"{folder}: linear.weight must have shape ({self.out_features}, {self.in_features}), got {got}")
        self.bias = weights.get("linear.bias") if cfg.get("bias", True) else None
        if cfg.get("bias", True) and (self.bias is None or tuple(self.bias.shape) != (self.out_features,)):
            raise ValueError(f"{folder}: linear.bias must have shape ({self.out_features},)")

    @staticmethod
    def _load_weights(folder: str) -> Dict[str, np.ndarray]:
        st = os.path.join(folder, "model.safetensors")
        if os.path.isfile(st):
            return read_safetensors(st)
        pt = os.path.join(folder, "pytorch_model.bin")
        if os.path.isfile(pt):
            try:
                import torch  # noqa: PLC0415
            except ImportError:
                raise NotImplementedError(f"{pt}: reading a Dense module's pytorch_model.bin needs torch "
                                          "(or convert it to model.safetensors)") from None
            state = torch.load(pt, map_location="cpu", weights_only=True)
            return {k: v.float().numpy() for k, v in state.items()}
        raise FileNotFoundError(f"{folder}: no model.safetensors or pytorch_model.bin for the Dense module")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        y = np.asarray(x, dtype=np.float32) @ self.weight.T
        if self.bias is not None:
            y = y + self.bias
        return np.ascontiguousarray(self.activation(y.astype(np.float32)), dtype=np.float32)


def load_modules(folder: str) -> List[Dict[str, Any]]:
    """modules.json entries (type short name and absolute path), [] without modules.json."""
    path = os.path.join(folder, "modules.json")
    if not os.path.isfile(path):
        return []
    with open(path, encoding="utf-8") as f:
        modules = json.load(f)
    out = []
    for m in modules:
        rel = m.get("path", "")
        if os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
            raise ValueError(f"{path}: module path {rel!r} leaves the model folder")
        out.append({"type": m["type"].rsplit(".", 1)[-1], "path": os.path.join(folder, rel)})
    return out
