"""`cmake --install` into a temporary prefix, then build a C and a C++ program against it with
find_package(bertcpp) and with pkg-config, run them on tiny-bert and compare their embeddings with
the reference's (mean of expected.safetensors single.last_hidden_state, transformers 4.19)."""
import argparse
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
import safetensors_np  # noqa: E402

TEXT = "Replace me by any text you'd like."  # the `single` case of the golden data


def run(cmd, **kw):
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        sys.exit(f"FAILED ({res.returncode}): {shlex.join(cmd)}\n{res.stdout}\n{res.stderr}")
    return res.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cmake", default="cmake")
    ap.add_argument("--cc", default="cc")
    ap.add_argument("--cxx", default="c++")
    args = ap.parse_args()

    ref = safetensors_np.load(os.path.join(args.model, "expected.safetensors"))
    hidden = ref["single.last_hidden_state"][0]
    mask = ref["single.attention_mask"][0].astype(bool)
    expected = hidden[mask].mean(axis=0)
    n_tokens = int(mask.sum())

    with tempfile.TemporaryDirectory(prefix="bertcpp-install-") as tmp:
        prefix = os.path.join(tmp, "prefix")
        run([args.cmake, "--install", args.build_dir, "--prefix", prefix])
        for must in ("include/bertcpp/bertcpp.h", "include/bertcpp/bertcpp.hpp"):
            if not os.path.exists(os.path.join(prefix, must)):
                sys.exit(f"FAILED: the install prefix lacks {must}")
        pcdirs = [os.path.join(r, d) for r, ds, _ in os.walk(prefix) for d in ds if d == "pkgconfig"]
        if not pcdirs:
            sys.exit("FAILED: no lib*/pkgconfig folder in the install prefix")

        binaries = {}
        # find_package(bertcpp)
        build = os.path.join(tmp, "consumer")
        run([args.cmake, "-S", os.path.join(HERE, "consumer"), "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}",
             f"-DCMAKE_C_COMPILER={args.cc}", f"-DCMAKE_CXX_COMPILER={args.cxx}", "-DCMAKE_BUILD_TYPE=Release"])
        run([args.cmake, "--build", build, "-j2"])
        binaries["cmake c"] = os.path.join(build, "embed_c")
        binaries["cmake c++"] = os.path.join(build, "embed_cxx")

        # pkg-config bertcpp
        env = dict(os.environ, PKG_CONFIG_PATH=os.pathsep.join(pcdirs))
        cflags = shlex.split(run(["pkg-config", "--cflags", "bertcpp"], env=env))
        libs = shlex.split(run(["pkg-config", "--libs", "bertcpp"], env=env))
        libdir = run(["pkg-config", "--variable=libdir", "bertcpp"], env=env).strip()
        rpath = [f"-Wl,-rpath,{libdir}"]
        out_c = os.path.join(tmp, "pc_embed_c")
        run([args.cc, "-std=c11", "-Wall", "-Werror", *cflags, os.path.join(HERE, "consumer", "embed.c"),
             "-o", out_c, *libs, *rpath])
        out_cxx = os.path.join(tmp, "pc_embed_cxx")
        run([args.cxx, "-std=c++20", "-Wall", "-Werror", *cflags, os.path.join(HERE, "consumer", "embed.cpp"),
             "-o", out_cxx, *libs, *rpath])
        binaries["pkg-config c"] = out_c
        binaries["pkg-config c++"] = out_cxx

        for name, exe in binaries.items():
            fields = run([exe, args.model, TEXT]).split()
            lang, first, values = fields[0], fields[1], np.array([float(v) for v in fields[2:]], dtype=np.float64)
            if lang == "cxx" and int(first) != n_tokens:
                sys.exit(f"FAILED {name}: {first} tokens, the reference has {n_tokens}")
            if values.shape != expected.shape:
                sys.exit(f"FAILED {name}: {values.shape[0]} values, expected {expected.shape[0]}")
            err = float(np.max(np.abs(values - expected)))
            if err > 1e-4:
                sys.exit(f"FAILED {name}: max abs difference {err:.3g} from the reference")
            print(f"{name}: ok (max abs difference {err:.2g})")


if __name__ == "__main__":
    main()
