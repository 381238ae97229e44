"""The JSON-lines worker protocol the harnesses (bench/run.py, bench/real.py) speak to a peer process:
one request per stdin line, one JSON reply per stdout line, inputs (a safetensors of token ids) cached.
    {"op": "bench", "inputs": F, "iters": K, "warmup": W, ...}   {"op": "forward", "inputs": F, "out": OUT, ...}
    {"op": "quit"}
An exception is replied as {"error": ...} and the worker keeps serving."""
import json
import statistics
import sys
import time


def time_calls(fn, iters, warmup):
    """Milliseconds of `iters` calls of fn() after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return times


def summary(times):
    return {"median_ms": statistics.median(times), "min_ms": min(times), "iters": len(times), "times_ms": times}


def serve(load_inputs, ops):
    """ops: op name -> fn(request, inputs) returning the reply dict."""
    cache = {}
    for line in sys.stdin:
        req = json.loads(line)
        try:
            if req["op"] == "quit":
                break
            fn = ops.get(req["op"])
            if fn is None:
                rep = {"error": f"unknown op {req['op']!r}"}
            else:
                if req["inputs"] not in cache:
                    cache[req["inputs"]] = load_inputs(req["inputs"])
                rep = fn(req, cache[req["inputs"]])
        except Exception as e:  # report, keep serving
            rep = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(rep), flush=True)
    return 0
