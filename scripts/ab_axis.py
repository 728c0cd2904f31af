"""Along-an-axis speed, two builds side by side: the softmax family over non-last (and last) axes.

    PYTHONPATH=python python scripts/ab_axis.py OLD.so [--rounds R] [--threads N] [--shapes "(32000,4096),0;..."]
        [--dtype float32|float64]

OLD.so is a copy of ``_fastact*.so`` from the build to compare against; the other build is the one ``fastact``
imports. Both are called through ``axis_plain`` with ``out=`` on the same input (standard normal × 3, float32
unless ``--dtype`` says otherwise; derivatives with a standard normal grad_out), alternating old and new;
each round times the best of 3 repeats of at least 3·10^7 elements, and the table gives the median over the
rounds. GB/s counts the input read once and the output written once. The machine's noise moves single
figures by ±30%: compare the two columns of one run, not runs.
"""

from __future__ import annotations

import argparse
import time

import fastact
import fastact._fastact as new
import numpy as np
from compare_builds import load_old
from fastact import _axis, _bench

SHAPES = "(32000,4096),0;(4096,1000),0;(256,4096),0;(2048,64,256),1;(4,21,256,256),1"
CALLS = (("softmax", 0), ("log_softmax", 0), ("logsumexp", 0), ("softmax", 1), ("log_softmax", 1))


def seconds(module, index: int, mode: int, x, g, out, axis: int, reps: int) -> float:
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            module.axis_plain(index, mode, x, g, out, axis, None)
        best = min(best, (time.perf_counter() - t0) / reps)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--shapes", default=SHAPES, help='"(rows,cols),axis;..."')
    parser.add_argument("--dtype", default="float32", choices=("float32", "float64"))
    args = parser.parse_args()
    old = load_old(args.old)
    for module in (old, fastact):
        module.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    dtype = np.dtype(args.dtype)
    print("| shape, axis | function | old (GB/s) | new (GB/s) | new ÷ old |\n|---|---|---:|---:|---:|")
    for shape, axis in _bench.parse_shapes(args.shapes):
        x = rng.standard_normal(shape, dtype=dtype) * 3
        g = rng.standard_normal(shape, dtype=dtype)
        for op, mode in CALLS:
            index = _axis._OPS[op]
            out = np.empty(np.delete(shape, axis).tolist(), dtype) if op == "logsumexp" else np.empty_like(x)
            reps = max(1, int(3e7 // x.size))
            rates: dict[str, list[float]] = {"old": [], "new": []}
            for _ in range(args.rounds):
                for tag, module in (("old", old), ("new", new)):
                    module.axis_plain(index, mode, x, g if mode else None, out, axis, None)
                    rates[tag].append(2 * x.nbytes / seconds(module, index, mode, x, g if mode else None, out,
                                                             axis, reps) / 1e9)
            o, n = float(np.median(rates["old"])), float(np.median(rates["new"]))
            name = op + ("_grad" if mode else "")
            print(f"| {shape}, {axis} | `{name}` | {o:.2f} | {n:.2f} | {n / o:.2f}× |", flush=True)


if __name__ == "__main__":
    main()
