"""bertcpp.distributed on real local clusters of Ray, Spark and Dask (2 workers, 50,000 texts).

Each job has one worker SIGKILLed mid-job (the first time the batch holding KILL_ID reaches it);
the engine's retry must recover it, and the output must hold every id exactly once with
embeddings bitwise equal to single-process `bertcpp embed`. The engines are optional extras:
each test skips unless its engine is importable (bash scripts/setup_scale.sh makes the venv; run
PYTHONPATH=build/python ~/.cache/bertcpp/venv-scale/bin/python -m pytest tests/python/test_distributed.py).
"""
import faulthandler
import importlib.util
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

import distributed_support as support

SETUP = "engine not installed: bash scripts/setup_scale.sh, then run pytest with that venv's python"


def _missing(*modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


@pytest.fixture(autouse=True)
def hang_guard():
    """A hung cluster must not hold CI: dump the stacks and exit after 10 minutes."""
    faulthandler.dump_traceback_later(600, exit=True)
    yield
    faulthandler.cancel_dump_traceback_later()


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """The corpus (JSON Lines with id + text) and the CLI's embeddings of it."""
    d = tmp_path_factory.mktemp("corpus")
    texts = support.corpus()
    jsonl = os.path.join(d, "corpus.jsonl")
    support.write_jsonl(texts, jsonl)
    return {"dir": str(d), "jsonl": jsonl, "texts": texts, "ref": support.cli_reference(texts, str(d))}


def test_import_loads_no_engine():
    code = ("import sys, bertcpp, bertcpp.distributed; "
            "print(sorted(m for m in ('ray', 'pyspark', 'dask', 'pandas', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_embedder_rejects_non_text_rows():
    from bertcpp.distributed import Embedder

    e = Embedder(support.MODEL)
    with pytest.raises(ValueError, match=r"column 'body' row 1: expected a str, got NoneType None"):
        e.embed(["ok", None], "body")
    assert e.embed([]).shape == (0, e.dimensions)


@pytest.mark.skipif(bool(_missing("ray", "pyarrow")), reason=SETUP)
def test_ray_data_two_actors_recovers_killed_actor(job, tmp_path):
    import pyarrow.parquet as pq
    import ray
    import ray.data
    from bertcpp.distributed import ray_embed

    marker = str(tmp_path / "killed")
    out = str(tmp_path / "out")
    # 3 logical CPUs: one per embedding actor, one for the read and write tasks (else they wait forever).
    ray.init(num_cpus=3, _node_ip_address="127.0.0.1", include_dashboard=False, log_to_driver=False,
             object_store_memory=300 << 20,
             runtime_env={"env_vars": support.worker_env({"BERTCPP_TEST_KILL_MARKER": marker})})
    try:
        ds = ray.data.read_json(job["jsonl"], override_num_blocks=20)
        ray_embed(ds, support.MODEL, concurrency=2, threads=1, batch_size=500,
                  embedder=support.killing_ray_embedder()).write_parquet(out)
    finally:
        ray.shutdown()
    support.check_kill_happened(marker)
    table = pq.read_table(out, columns=["id", "embedding"])
    emb = table.column("embedding").combine_chunks()
    rows = emb.to_numpy_ndarray() if hasattr(emb, "to_numpy_ndarray") else np.stack(emb.to_pylist())
    support.check_output(table.column("id").to_numpy(), list(rows), job["ref"])


def _spark_kill_frames(marker):
    """mapInPandas step ahead of the embedding: kills the executor JVM once (see support.kill_once)."""
    def kill_frames(frames):
        for frame in frames:
            support.kill_once(frame["id"], marker, kill_parent_named="CoarseGrainedExecutorBackend")
            yield frame
    return kill_frames


@pytest.mark.skipif(bool(_missing("pyspark", "pandas", "pyarrow")) or shutil.which("java") is None,
                    reason=SETUP + " (Spark also needs java)")
def test_spark_two_executors_recovers_killed_executor(job, tmp_path):
    import pyarrow.parquet as pq
    from pyspark.sql import SparkSession
    from bertcpp.distributed import spark_embed

    marker = str(tmp_path / "killed")
    out = str(tmp_path / "out")
    env = support.worker_env({"PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"})
    os.environ.update(PYSPARK_PYTHON=sys.executable, SPARK_LOCAL_IP="127.0.0.1")
    os.environ["SPARK_HOME"] = os.path.dirname(importlib.util.find_spec("pyspark").origin)
    # local-cluster: a real standalone master with 2 worker JVMs of 1 core each; lost executors are
    # replaced and their tasks rerun (spark.task.maxFailures 4).
    builder = (SparkSession.builder.master("local-cluster[2,1,1024]").appName("bertcpp-test")
               .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
               .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
               .config("spark.pyspark.python", sys.executable)
               .config("spark.sql.execution.arrow.maxRecordsPerBatch", "1000"))
    for k, v in env.items():
        builder = builder.config(f"spark.executorEnv.{k}", v)
    spark = builder.getOrCreate()
    try:
        df = spark.read.json(job["jsonl"], schema="id long, text string").repartition(8, "id")
        df = df.mapInPandas(_spark_kill_frames(marker), df.schema)
        spark_embed(df, support.MODEL, threads=1).write.parquet(out)
    finally:
        spark.stop()
    support.check_kill_happened(marker)
    table = pq.read_table(out, columns=["id", "embedding"])
    rows = [np.asarray(e, dtype=np.float32) for e in table.column("embedding").to_pylist()]
    support.check_output(table.column("id").to_numpy(), rows, job["ref"])


@pytest.mark.skipif(bool(_missing("dask", "distributed", "pandas", "pyarrow")), reason=SETUP)
def test_dask_two_workers_recovers_killed_worker(job, tmp_path):
    import dask.dataframe as dd
    import pyarrow.parquet as pq
    from distributed import Client, LocalCluster
    from bertcpp.distributed import dask_embed, dask_parquet_schema

    marker = str(tmp_path / "killed")
    out = str(tmp_path / "out")
    os.environ.update(support.worker_env())  # the nannies' worker processes inherit it
    # Two worker processes under nannies: a killed worker is restarted and its tasks rerun
    # (distributed.scheduler.allowed-failures, 3 by default).
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                      dashboard_address=None) as cluster, Client(cluster):
        ddf = dd.read_json(job["jsonl"], lines=True, blocksize=1 << 20, dtype={"id": "int64", "text": "object"})
        ddf = ddf.map_partitions(support.KillFrames(marker), meta=ddf._meta)
        dask_embed(ddf, support.MODEL, threads=1).to_parquet(out, write_index=False,
                                                                 schema=dask_parquet_schema())
    support.check_kill_happened(marker)
    table = pq.read_table(out, columns=["id", "embedding"])
    rows = [np.asarray(e, dtype=np.float32) for e in table.column("embedding").to_pylist()]
    support.check_output(table.column("id").to_numpy(), rows, job["ref"])


def test_cli_jsonl_round_trips_float32(tmp_path):
    """The CLI's JSON floats parse back to the very float32 bits of its npy output."""
    import json

    texts = support.corpus(2000, seed=3)
    ref = support.cli_reference(texts, str(tmp_path))
    with open(tmp_path / "corpus.txt", "rb") as stdin:
        out = subprocess.run([support.cli_binary(), "embed", "-m", support.MODEL, "--format", "jsonl"], stdin=stdin,
                             capture_output=True, check=True, timeout=300).stdout.decode()
    rows = np.array([json.loads(line)["embedding"] for line in out.splitlines()], dtype=np.float32)
    assert rows.shape == ref.shape
    assert (rows.view(np.uint32) == ref.view(np.uint32)).all()
