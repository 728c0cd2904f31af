"""Softmax-family benchmark: fastact vs PyTorch vs ONNX Runtime vs the NumPy formula vs a plain copy.

    python benches/bench_axis.py [--threads 1,all] [--shapes "(rows,cols),axis;..."] [--out FILE.md]

Shapes from the along-an-axis issue: (4096, 32000) (a vocabulary-sized batch of logits) and (65536, 1000),
float32, reduced over the last axis, plus (32000, 4096) over axis 0 (a non-last axis, read in place); `--shapes`
replaces them (e.g. short rows: "(1000000,8),-1;(500000,16),-1").
Every timing is the best of 5 repeats, `out=` given; the copy is the faster of `np.copyto` (one thread) and
`fastact.identity(x, out=)` (threaded) on the row's thread count; a peer that is not installed is skipped (its column
shows —). ONNX Runtime: a one-node Softmax / LogSoftmax model (opset 21, `axis` attribute) with
`intra_op_num_threads` = the row's count, run with `run_with_iobinding` into the same preallocated output;
its result is compared with fastact's and marked ✗ beyond 1e-3 (1 + |fastact|).
"""

from __future__ import annotations

import argparse
import platform
import time

import fastact
import numpy as np
from fastact import _bench, _peers
from fastact.__main__ import _parse_threads
from fastact._bench import best_seconds as best

try:
    import torch
except ImportError:  # pragma: no cover - optional peer
    torch = None

SHAPES = (((4096, 32000), -1), ((65536, 1000), -1), ((32000, 4096), 0))


def numpy_softmax(x, axis, out):
    m = np.max(x, axis=axis, keepdims=True)
    np.subtract(x, m, out=out)
    np.exp(out, out=out)
    out /= np.sum(out, axis=axis, keepdims=True)


def onnx_time(name: str, x: np.ndarray, axis: int, n: int, out: np.ndarray,
              expected: np.ndarray) -> tuple[float | None, str]:
    """(seconds, cell) for ONNX Runtime's Softmax / LogSoftmax on n threads; (None, why) when it cannot run."""
    if _peers.load("onnxruntime")[0] is None:
        return None, "—"
    op = "Softmax" if name == "softmax" else "LogSoftmax"
    try:
        runner = _peers.OnnxRunner(_peers.onnx_model_bytes((op, {"axis": axis}, (), 21), x.dtype, x.ndim), x, out)
        runner.set_threads(n)
        runner()
    except Exception as exc:  # noqa: BLE001 - report it in the table
        return None, f"failed ({type(exc).__name__})"
    wrong = not np.all(np.abs(out - expected) <= 1e-3 * (1 + np.abs(expected)))
    t = best(runner)
    return (None, "✗ (wrong result)") if wrong else (t, "")


def rows(x: np.ndarray, axis: int, n: int, with_numpy: bool) -> list[str]:
    """Table rows for softmax and log_softmax of x over axis on n threads."""
    out = np.empty_like(x)
    gbytes = 2 * x.nbytes / 1e9
    fastact.set_num_threads(n)
    if torch is not None:
        torch.set_num_threads(n)
    # The bandwidth limit on n threads: NumPy's copy is single-threaded, identity(out=) is fastact's own
    # threaded copy of the same bytes; the faster one stands for what the memory allows.
    copy = min(best(lambda: np.copyto(out, x)), best(lambda: fastact.identity(x, out=out)))

    def fmt(t: float | None) -> str:
        return f"{gbytes / t:.1f} GB/s" if t else "—"

    lines = []
    for name in ("softmax", "log_softmax"):
        fn = getattr(fastact, name)
        t_fa = best(lambda: fn(x, axis=axis, out=out))  # noqa: B023 (called before fn changes)
        t_torch = None
        if torch is not None:
            tx, to = torch.from_numpy(x), torch.from_numpy(out)
            op = torch.softmax if name == "softmax" else torch.log_softmax
            t_torch = best(lambda: op(tx, axis, out=to))  # noqa: B023
        t_ort, ort_cell = onnx_time(name, x, axis, n, out, fn(x, axis=axis))
        t_np = best(lambda: numpy_softmax(x, axis, out), repeats=2) if (name == "softmax" and with_numpy) else None
        ratio = f"{t_torch / t_fa:.2f}×" if t_torch else "—"
        ratio_ort = f"{t_ort / t_fa:.2f}×" if t_ort else "—"
        lines.append(f"| {x.shape}, {axis} | {n} | {name} | {fmt(t_fa)} | {fmt(t_torch)} | "
                     f"{fmt(t_ort) if t_ort else ort_cell} | {fmt(t_np)} | {fmt(copy)} | {ratio} | {ratio_ort} | "
                     f"{copy / t_fa:.2f}× |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=_parse_threads, default="1,all", help="thread counts, e.g. 1,all")
    parser.add_argument("--shapes", type=_bench.parse_shapes, default=SHAPES, help='"(rows,cols),axis;..."')
    parser.add_argument("--out")
    args = parser.parse_args()
    cores = _bench.usable_cores()
    threads = list(args.threads)
    cpu = _bench._cpu_model()
    lines = [f"# softmax family, float32 — {time.strftime('%Y-%m-%d')} on {cpu}, {cores} cores, "
             f"SIMD {fastact.simd_level()}, NumPy {np.__version__}, torch {torch.__version__ if torch else 'absent'}, "
             f"onnxruntime {_peers.version_line('onnxruntime')}, "
             f"Python {platform.python_version()}", "",
             "| shape, axis | threads | function | fastact | torch | onnxruntime | numpy formula | copy | × torch "
             "| × onnxruntime | of copy |",
             "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rng = np.random.default_rng(0)
    for shape, axis in args.shapes:
        x = rng.standard_normal(shape, dtype=np.float32) * 4
        for n in threads:
            lines += rows(x, axis, n, with_numpy=n == threads[0])
    lines += ["", "GB/s counts the bytes read and written once (input + output); copy = the faster of np.copyto "
              "(single-threaded) and fastact.identity(x, out=) (threaded) on the row's thread count, the bandwidth "
              "limit 'of copy' measures against."]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
