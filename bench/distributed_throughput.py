#!/usr/bin/env python3
"""Steady-state embedding throughput per worker on Ray Data, Spark and Dask (bertcpp.distributed),
against the same Embedder alone in one process. Run by hand (never on CI), under the CPU lock:

    PYTHONPATH=build/python "$(bash scripts/setup_scale.sh)" bench/distributed_throughput.py \
        --model ~/.cache/bertcpp/real-models/models/all-MiniLM-L6-v2 --texts 6000

Each engine: a local cluster of 2 workers x 1 CPU (the machine's 2 cores), a warm-up job of 500
texts (cluster start, worker processes, model loads), then the timed job over --texts texts
(read from memory, embeddings materialized: Ray `materialize()`, Spark's `noop` writer, Dask
`compute()`). texts/s per worker = texts / 2 / seconds. Prints one JSON line per measurement.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import random
import sys
import time

WORDS = ("the quick brown fox jumps over lazy dog a model embeds every passage of corpus vector index "
         "search query document sentence transformer attention layer token piece word unknown "
         "café naïve über straße 東京 данные emoji 🙂").split(" ")


def corpus(n: int, seed: int = 18) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def worker_env() -> dict[str, str]:
    import bertcpp

    root = os.path.dirname(os.path.dirname(os.path.abspath(bertcpp.__file__)))
    return {"PYTHONPATH": os.pathsep.join([root] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]),
            "HF_HUB_OFFLINE": "1"}


def alone(model: str, texts: list[str], batch: int) -> float:
    from bertcpp.distributed import Embedder

    e = Embedder(model, threads=1)
    e.embed(texts[:256])
    t0 = time.perf_counter()
    for i in range(0, len(texts), batch):
        e.embed(texts[i:i + batch])
    return time.perf_counter() - t0


def ray_run(model: str, warm: list[str], texts: list[str], batch: int) -> float:
    import ray
    import ray.data
    from bertcpp.distributed import ray_embed

    ray.init(num_cpus=3, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             object_store_memory=300 << 20, runtime_env={"env_vars": worker_env()})
    try:
        def job(items: list[str]) -> float:
            ds = ray.data.from_items([{"id": i, "text": t} for i, t in enumerate(items)], override_num_blocks=20)
            t0 = time.perf_counter()
            n = ray_embed(ds, model, concurrency=2, threads=1, batch_size=batch).materialize().count()
            assert n == len(items), (n, len(items))
            return time.perf_counter() - t0
        job(warm)
        return job(texts)
    finally:
        ray.shutdown()


def spark_run(model: str, warm: list[str], texts: list[str], batch: int) -> float:
    import pandas as pd
    from pyspark.sql import SparkSession
    from bertcpp.distributed import spark_embed

    os.environ.update(PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    os.environ["SPARK_HOME"] = os.path.dirname(importlib.util.find_spec("pyspark").origin)
    builder = (SparkSession.builder.master("local-cluster[2,1,1024]").appName("bertcpp-bench")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false").config("spark.pyspark.python", sys.executable)
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(batch)))
    for k, v in worker_env().items():
        builder = builder.config(f"spark.executorEnv.{k}", v)
    spark = builder.getOrCreate()
    try:
        def job(items: list[str]) -> float:
            df = spark.createDataFrame(pd.DataFrame({"id": range(len(items)), "text": items})).repartition(8)
            df = df.cache()
            assert df.count() == len(items)
            t0 = time.perf_counter()
            spark_embed(df, model, threads=1).write.format("noop").mode("overwrite").save()
            return time.perf_counter() - t0
        job(warm)
        return job(texts)
    finally:
        spark.stop()


def dask_run(model: str, warm: list[str], texts: list[str], batch: int) -> float:
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster
    from bertcpp.distributed import dask_embed

    os.environ.update(worker_env())
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        def job(items: list[str]) -> float:
            ddf = dd.from_pandas(pd.DataFrame({"id": range(len(items)), "text": items}),
                                 npartitions=max(2, len(items) // batch)).persist()
            t0 = time.perf_counter()
            out = dask_embed(ddf, model, threads=1).compute()
            assert len(out) == len(items)
            return time.perf_counter() - t0
        job(warm)
        return job(texts)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--texts", type=int, default=6000)
    ap.add_argument("--batch", type=int, default=256, help="rows per embedding call")
    ap.add_argument("--engines", default="alone,ray,spark,dask")
    a = ap.parse_args()
    texts = corpus(a.texts)
    warm = corpus(500, seed=7)
    runs = {"ray": ray_run, "spark": spark_run, "dask": dask_run}
    for name in a.engines.split(","):
        if name == "alone":
            s = alone(a.model, texts, a.batch)
            row = {"engine": "Embedder alone, 1 thread", "texts": a.texts, "seconds": round(s, 2),
                   "texts_per_s_per_worker": round(a.texts / s, 1)}
        else:
            s = runs[name](a.model, warm, texts, a.batch)
            row = {"engine": name, "workers": 2, "texts": a.texts, "seconds": round(s, 2),
                   "texts_per_s_per_worker": round(a.texts / 2 / s, 1)}
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
