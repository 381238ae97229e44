"""JSON forms of the reference libraries' outputs, shared by the expected-output generators in tools/."""
import numpy as np
import torch


def plain(x):
    """A pipeline's result with numpy/torch scalars made Python numbers (dicts and lists kept)."""
    if isinstance(x, dict):
        return {k: plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    if hasattr(x, "item"):
        return x.item()
    return x


def arr(x):
    """A tensor or array as {"dtype", "shape", "data" (flat)}; a list of them element-wise."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, list):
        return [arr(v) for v in x]
    x = np.asarray(x)
    return {"dtype": str(x.dtype), "shape": list(x.shape), "data": x.reshape(-1).tolist()}
