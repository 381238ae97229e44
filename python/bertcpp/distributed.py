"""Batch embedding on distributed engines: Ray Data, Spark and Dask, with the model loaded once per worker.

Every helper embeds through the engine's own `Model.embed` (the path `bertcpp embed` takes), so a
row's embedding is bitwise the one the CLI gives, whatever the engine's batch boundaries. ray,
pyspark, pandas and dask are imported only inside the helpers that need them: `import bertcpp`
never loads them. See docs/scale-distributed.md.

    import ray, bertcpp.distributed as bd
    ds = ray.data.read_parquet("corpus/")
    bd.ray_embed(ds, "BAAI/bge-small-en-v1.5", concurrency=8, threads=4).write_parquet("out/")

    df = spark.read.json("corpus.jsonl")
    bd.spark_embed(df, "BAAI/bge-small-en-v1.5").write.parquet("out/")

    ddf = dask.dataframe.read_parquet("corpus/")
    bd.dask_embed(ddf, "BAAI/bge-small-en-v1.5").to_parquet("out/")
"""
from __future__ import annotations

import os
import threading
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from . import _bertcpp

__all__ = ["Embedder", "RayEmbedder", "cached_embedder", "dask_embed", "dask_parquet_schema", "ray_embed", "spark_embed",
           "spark_embed_udf", "spark_map_in_pandas", "spark_output_schema"]

_cache_lock = threading.Lock()
_cache: Dict[Tuple[Any, ...], "Embedder"] = {}


class Embedder:
    """One engine model and the embedding settings; `embed(texts)` gives float32 [n, dim].

    `threads` is the engine's compute threads for this worker (0 = all cores: on a worker that runs
    several tasks at once, give each a share). Calls are serialized per model, since one model's
    forward already uses all of its threads."""

    def __init__(self, model: str, threads: int = 1, pooling: Optional[str] = None,
                 normalize: Optional[bool] = None, compute: str = "f32", revision: str = "main"):
        if isinstance(threads, bool) or not isinstance(threads, int) or threads < 0:
            raise ValueError(f"threads must be an integer >= 0, got {threads!r}")
        self.model_name = os.fspath(model)
        self.pooling = pooling
        self.normalize = normalize
        self._model = _bertcpp.Model.from_pretrained(self.model_name, threads=threads, compute=compute,
                                                     revision=revision)
        self._lock = threading.Lock()

    @property
    def dimensions(self) -> int:
        return int(self._model.config["hidden_size"])

    def embed(self, texts: Sequence[Any], column: str = "text") -> np.ndarray:
        """Embeddings of `texts` (a list, numpy array or pandas Series of str); a non-str row is an
        error naming `column` and the row."""
        values: List[str] = list(texts)
        for i, t in enumerate(values):
            if not isinstance(t, str):
                raise ValueError(f"column {column!r} row {i}: expected a str, got {type(t).__name__} {t!r}")
        if not values:
            return np.empty((0, self.dimensions), dtype=np.float32)
        with self._lock:
            return self._model.embed(values, self.pooling, self.normalize)


def cached_embedder(model: str, threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                    compute: str = "f32", revision: str = "main") -> Embedder:
    """The Embedder for these arguments, loaded once per process: every task a Spark Python worker or
    a Dask worker runs reuses it."""
    key = (os.fspath(model), threads, pooling, normalize, compute, revision)
    with _cache_lock:
        e = _cache.get(key)
        if e is None:
            e = Embedder(*key)
            _cache[key] = e
        return e


# ---------------------------------------------------------------------------------------------- Ray Data
class RayEmbedder:
    """A callable class for `ray.data.Dataset.map_batches`: Ray builds one per actor, so the model
    loads once per actor. Batches in "numpy" format get `embedding_column` as a float32 [n, dim]
    array (a tensor column in Parquet); "pandas" batches get one float32 array per row.

        ds.map_batches(RayEmbedder, fn_constructor_kwargs={"model": "BAAI/bge-small-en-v1.5", "threads": 4},
                       batch_size=256, compute=ray.data.ActorPoolStrategy(size=8), num_cpus=4,
                       batch_format="numpy")
    """

    def __init__(self, model: str, text_column: str = "text", embedding_column: str = "embedding",
                 threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                 compute: str = "f32", revision: str = "main"):
        self.text_column = text_column
        self.embedding_column = embedding_column
        self.embedder = Embedder(model, threads, pooling, normalize, compute, revision)

    def __call__(self, batch: Any) -> Any:
        if self.text_column not in batch:
            raise KeyError(f"batch has no column {self.text_column!r} (columns: {sorted(batch.keys())})")
        emb = self.embedder.embed(batch[self.text_column], self.text_column)
        if isinstance(batch, dict):
            out = dict(batch)
            out[self.embedding_column] = emb
            return out
        out = batch.copy()  # pandas: the input may be a read-only view of the object store
        out[self.embedding_column] = list(emb)
        return out


def ray_embed(ds: Any, model: str, *, text_column: str = "text", embedding_column: str = "embedding",
              concurrency: int = 1, threads: int = 1, batch_size: int = 256, pooling: Optional[str] = None,
              normalize: Optional[bool] = None, compute: str = "f32", revision: str = "main",
              embedder: type = RayEmbedder, **map_batches_args: Any) -> Any:
    """`ds` with `embedding_column` added: `concurrency` actors of `threads` CPUs each (one model
    apiece), `batch_size` rows per call. `embedder`: RayEmbedder or a subclass (say, one that adds
    columns). Extra arguments go to `map_batches`; an actor that dies is restarted and its batch
    retried (Ray Data's defaults, max_restarts=-1 and max_task_retries=-1)."""
    import ray.data

    map_batches_args.setdefault("num_cpus", threads)
    return ds.map_batches(
        embedder,
        fn_constructor_kwargs=dict(model=model, text_column=text_column, embedding_column=embedding_column,
                                   threads=threads, pooling=pooling, normalize=normalize, compute=compute,
                                   revision=revision),
        batch_size=batch_size, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=concurrency),
        **map_batches_args)


# ------------------------------------------------------------------------------------------------ Spark
def spark_output_schema(schema: Any, embedding_column: str = "embedding") -> Any:
    """`schema` (a DataFrame's StructType) plus `embedding_column` as array<float>."""
    from pyspark.sql.types import ArrayType, FloatType, StructField, StructType

    if embedding_column in schema.fieldNames():
        raise ValueError(f"the DataFrame already has a column {embedding_column!r}")
    return StructType(list(schema.fields) + [StructField(embedding_column, ArrayType(FloatType(), False), False)])


def spark_map_in_pandas(model: str, text_column: str = "text", embedding_column: str = "embedding",
                        threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                        compute: str = "f32", revision: str = "main") -> Callable[[Iterator[Any]], Iterator[Any]]:
    """A function for `DataFrame.mapInPandas` (schema: `spark_output_schema`). The model is cached per
    Python worker process, which Spark reuses across tasks (spark.python.worker.reuse, on by default)."""

    def embed_frames(frames: Iterator[Any]) -> Iterator[Any]:
        embedder = cached_embedder(model, threads, pooling, normalize, compute, revision)
        for frame in frames:
            out = frame.copy()
            out[embedding_column] = list(embedder.embed(frame[text_column], text_column))
            yield out

    return embed_frames


def spark_embed(df: Any, model: str, *, text_column: str = "text", embedding_column: str = "embedding",
                threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                compute: str = "f32", revision: str = "main") -> Any:
    """`df` with `embedding_column` (array<float>) added, through `mapInPandas`; rows per call follow
    spark.sql.execution.arrow.maxRecordsPerBatch. Each executor core runs one Python worker, so
    give executors `threads` CPUs per task (spark.task.cpus)."""
    fn = spark_map_in_pandas(model, text_column, embedding_column, threads, pooling, normalize, compute, revision)
    return df.mapInPandas(fn, spark_output_schema(df.schema, embedding_column))


def spark_embed_udf(model: str, threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
                    compute: str = "f32", revision: str = "main") -> Any:
    """A pandas UDF, text column -> array<float>: `df.withColumn("embedding", udf("text"))`. Same
    per-process model cache as `spark_map_in_pandas`."""
    from pyspark.sql.functions import pandas_udf
    from pyspark.sql.types import ArrayType, FloatType
    import pandas as pd

    def embed_series(batches: Iterator[pd.Series]) -> Iterator[pd.Series]:
        embedder = cached_embedder(model, threads, pooling, normalize, compute, revision)
        for texts in batches:
            yield pd.Series(list(embedder.embed(texts, str(texts.name))), index=texts.index)

    return pandas_udf(embed_series, ArrayType(FloatType(), False))  # type: ignore[call-overload]


# ------------------------------------------------------------------------------------------------- Dask
class _PartitionEmbedder:
    """The map_partitions function: picklable by reference, the model from the worker's cache."""

    def __init__(self, text_column: str, embedding_column: str, args: Tuple[Any, ...]):
        self.text_column = text_column
        self.embedding_column = embedding_column
        self.args = args

    def __call__(self, frame: Any) -> Any:
        embedder = cached_embedder(*self.args)
        out = frame.copy()
        out[self.embedding_column] = list(embedder.embed(frame[self.text_column], self.text_column))
        return out


def dask_parquet_schema(embedding_column: str = "embedding") -> Dict[str, Any]:
    """The `schema=` for dask's `to_parquet`: `embedding_column` as list<float32>, the rest inferred."""
    import pyarrow as pa

    return {embedding_column: pa.list_(pa.float32())}


def dask_embed(ddf: Any, model: str, *, text_column: str = "text", embedding_column: str = "embedding",
               threads: int = 1, pooling: Optional[str] = None, normalize: Optional[bool] = None,
               compute: str = "f32", revision: str = "main") -> Any:
    """`ddf` (a dask DataFrame) with `embedding_column` added (one float32 array per row), through
    `map_partitions`; the model is cached per worker process. With several threads per worker, the
    threads share that one model. Parquet: `.to_parquet(path, schema=dask_parquet_schema())`
    (dask would otherwise take the object column for strings)."""
    import pandas as pd

    if text_column not in ddf.columns:
        raise KeyError(f"the DataFrame has no column {text_column!r} (columns: {list(ddf.columns)})")
    meta = ddf._meta.assign(**{embedding_column: pd.Series([], dtype=object)})
    fn = _PartitionEmbedder(text_column, embedding_column, (os.fspath(model), threads, pooling, normalize,
                                                            compute, revision))
    return ddf.map_partitions(fn, meta=meta)
