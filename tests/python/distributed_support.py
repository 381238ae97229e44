"""Shared pieces of the Ray / Spark / Dask tests: the corpus, the CLI reference, the kill hook, the checks.

Workers import this module (tests/python is on their PYTHONPATH), so it must import nothing heavy."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
from typing import Dict, List, Optional

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("BERTCPP_TEST_DATA") or os.path.join(HERE, "..", "data")
MODEL = os.path.join(DATA, "models", "tiny-mpnet-st")  # a sentence-transformers folder: its pooling + Normalize
N_TEXTS = 50_000
KILL_ID = 31_337  # the row whose batch kills its worker (once), well inside the job

_WORDS = ("the quick brown fox jumps over lazy dog a model embeds every passage of corpus vector index "
          "search query document sentence transformer attention layer token piece word unknown "
          "café naïve über straße 東京 данные ①②③ emoji 🙂 tab\there").split(" ")


def corpus(n: int = N_TEXTS, seed: int = 18) -> List[str]:
    """n texts of 0..40 words (the empty text too), no newlines: line i of a text file is text i."""
    rng = random.Random(seed)
    return [" ".join(rng.choice(_WORDS) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def cli_binary() -> str:
    path = os.environ.get("BERTCPP_CLI") or os.path.join(HERE, "..", "..", "build", "bin", "bertcpp")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"bertcpp CLI not found at {path}: build it or set BERTCPP_CLI")
    return path


def cli_reference(texts: List[str], workdir: str) -> np.ndarray:
    """Single-process `bertcpp embed --format npy` of the texts (stdin, one per line): float32 [n, dim]."""
    src = os.path.join(workdir, "corpus.txt")
    out = os.path.join(workdir, "reference.npy")
    with open(src, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in texts))
    with open(src, "rb") as stdin:
        subprocess.run([cli_binary(), "embed", "-m", MODEL, "--format", "npy", "-o", out], stdin=stdin,
                       check=True, timeout=600)
    ref = np.load(out)
    assert ref.dtype == np.float32 and ref.shape[0] == len(texts), (ref.dtype, ref.shape)
    return ref


def write_jsonl(texts: List[str], path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for i, t in enumerate(texts):
            f.write(json.dumps({"id": i, "text": t}, ensure_ascii=False) + "\n")


def kill_once(ids, marker: str, kill_parent_named: Optional[str] = None) -> None:
    """SIGKILLs this worker the first time a batch holding KILL_ID reaches it (marker: O_EXCL file, so
    the engine's retry of the same batch runs normally). kill_parent_named: kill the nearest ancestor
    whose command line contains it (Spark: the executor JVM, not just its Python worker)."""
    if KILL_ID not in set(int(i) for i in ids):
        return
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return
    victim = os.getpid()
    if kill_parent_named:
        victim = _ancestor(kill_parent_named)
    os.write(fd, str(victim).encode())
    os.close(fd)
    os.kill(victim, signal.SIGKILL)


def _ancestor(needle: str) -> int:
    pid = os.getppid()
    while pid > 1:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if needle.encode() in f.read():
                return pid
        with open(f"/proc/{pid}/stat") as f:
            pid = int(f.read().rsplit(")", 1)[1].split()[1])
    raise RuntimeError(f"no ancestor process runs {needle!r}")


def check_kill_happened(marker: str) -> int:
    """The worker the hook killed is gone (a restart has another pid)."""
    assert os.path.exists(marker), "the kill hook never ran: the job did not reach the kill batch"
    pid = int(open(marker).read())
    assert not os.path.exists(f"/proc/{pid}") or _is_zombie(pid), f"killed worker {pid} is still alive"
    return pid


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def check_output(ids: np.ndarray, embeddings: List[np.ndarray], ref: np.ndarray) -> None:
    """Every id exactly once, each row's float32 bits equal to the CLI's row of that id."""
    ids = np.asarray(ids, dtype=np.int64)
    counts = np.bincount(ids, minlength=ref.shape[0])
    dup = np.flatnonzero(counts > 1)
    missing = np.flatnonzero(counts == 0)
    assert len(ids) == ref.shape[0] and not dup.size and not missing.size, (
        f"{len(ids)} rows for {ref.shape[0]} ids; duplicated {dup[:10].tolist()} missing {missing[:10].tolist()}")
    got = np.stack([np.asarray(e, dtype=np.float32) for e in embeddings])
    assert got.dtype == np.float32 and got.shape == ref.shape, (got.dtype, got.shape, ref.shape)
    want = ref[ids]
    diff = np.flatnonzero((got.view(np.uint32) != want.view(np.uint32)).any(axis=1))
    assert not diff.size, f"{diff.size} rows differ from bertcpp embed bitwise, e.g. id {ids[diff[0]]}"


def worker_env(extra: Optional[Dict[str, str]] = None) -> Dict[str, str]:
    """PYTHONPATH for engine workers: the built module and this folder (for the kill hook)."""
    import bertcpp

    paths = [os.path.dirname(os.path.dirname(os.path.abspath(bertcpp.__file__))), HERE]
    env = {"PYTHONPATH": os.pathsep.join(paths + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
           "HF_HUB_OFFLINE": "1"}
    env.update(extra or {})
    return env



def killing_ray_embedder():
    """A RayEmbedder that runs kill_once first, marker from $BERTCPP_TEST_KILL_MARKER (built lazily:
    bertcpp.distributed needs the built module)."""
    from bertcpp.distributed import RayEmbedder

    class KillingRayEmbedder(RayEmbedder):
        def __call__(self, batch):
            kill_once(batch["id"], os.environ["BERTCPP_TEST_KILL_MARKER"])
            return super().__call__(batch)

    return KillingRayEmbedder


class KillFrames:
    """A map_partitions step (picklable by reference): kill_once on the partition's ids, frame unchanged."""

    def __init__(self, marker: str):
        self.marker = marker

    def __call__(self, frame):
        kill_once(frame["id"], self.marker)
        return frame
