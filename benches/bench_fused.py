"""Issue 8: fused bias + activation, fastact.bias_act against what a user writes without it.

    python benches/bench_fused.py [--repeats 5] [--out FILE.md]

float32 (4096, 4096) with a bias along the last axis, for gelu, silu and relu, on one thread and on every
core: fastact.bias_act(x, b, NAME, out=out), the two passes fastact.NAME(x + b, out=out), the NumPy formula
(scipy.special.erf for gelu where SciPy is installed), torch F.NAME(t + tb) when torch is installed, and a
plain copy of x (np.copyto) as the memory limit, and fastact.NAME(x, out=out) without a bias (what the fusion
costs over the bare kernel). Best of `--repeats`. The "bitwise" column checks that
bias_act equals the two-pass result bit for bit.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import time
from collections.abc import Callable

import fastact
import numpy as np
from fastact import _bench
from fastact._bench import best_seconds as best

try:
    import torch
    import torch.nn.functional as F  # noqa: N812 - PyTorch's own spelling
except ImportError:  # pragma: no cover - optional peer
    torch = None

try:
    from scipy.special import erf
except ImportError:  # pragma: no cover - optional
    erf = None

SHAPE = (4096, 4096)
NAMES = ("gelu", "silu", "relu")


def numpy_formula(name: str, x: np.ndarray, b: np.ndarray) -> tuple[str, Callable[[], object]]:
    if name == "relu":
        return "np.maximum(x + b, 0)", lambda: np.maximum(x + b, 0)
    if name == "silu":
        def silu() -> np.ndarray:
            z = x + b
            return z / (1 + np.exp(-z))
        return "z = x + b; z / (1 + exp(-z))", silu
    if erf is not None:
        def gelu() -> np.ndarray:
            z = x + b
            return 0.5 * z * (1 + erf(z * np.float32(0.7071067811865476)))
        return "0.5 z (1 + erf(z / sqrt 2)) (scipy erf)", gelu

    def gelu_tanh() -> np.ndarray:
        z = x + b
        return 0.5 * z * (1 + np.tanh(np.float32(0.7978845608) * (z + np.float32(0.044715) * z ** 3)))
    return "gelu tanh form (no SciPy)", gelu_tanh


def run(threads: int, repeats: int, x: np.ndarray, b: np.ndarray) -> list[str]:
    fastact.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
        tx, tb = torch.from_numpy(x), torch.from_numpy(b)
    out = np.empty_like(x)
    copy_time = best(lambda: np.copyto(out, x), repeats)
    rows = []
    for name in NAMES:
        fused = best(lambda name=name: fastact.bias_act(x, b, name, out=out), repeats)
        bitwise = bool(np.array_equal(fastact.bias_act(x, b, name).view(np.uint32),
                                      getattr(fastact, name)(x + b).view(np.uint32)))
        two = best(lambda name=name: getattr(fastact, name)(x + b, out=out), repeats)
        plain = best(lambda name=name: getattr(fastact, name)(x, out=out), repeats)
        label, formula = numpy_formula(name, x, b)
        np_time = best(formula, repeats)
        if torch is not None:
            fn = getattr(F, name)
            torch_time = best(lambda fn=fn: fn(tx + tb), repeats)
            torch_cell = f"{torch_time * 1e3:.1f} ms | {torch_time / fused:.2f}×"
        else:
            torch_cell = "— | —"
        rows.append(
            f"| {name} | {threads} | {fused * 1e3:.1f} ms | {'yes' if bitwise else 'NO'} | {two * 1e3:.1f} ms | "
            f"{two / fused:.2f}× | {np_time * 1e3:.1f} ms ({label}) | {np_time / fused:.2f}× | {torch_cell} | "
            f"{plain * 1e3:.1f} ms | {copy_time * 1e3:.1f} ms | {copy_time / fused:.2f} |"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out")
    args = parser.parse_args()
    cores = _bench.usable_cores()
    cpu = _bench._cpu_model()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        commit = "?"
    rng = np.random.default_rng(0)
    x = rng.standard_normal(SHAPE, dtype=np.float32) * 3
    b = rng.standard_normal(SHAPE[-1], dtype=np.float32)
    peers = f"NumPy {np.__version__}" + (f", torch {torch.__version__}" if torch is not None else ", no torch")
    lines = [
        f"# issue 8 fused bias + activation, float32 {SHAPE}, bias along the last axis — "
        f"{time.strftime('%Y-%m-%d')}, commit {commit}",
        "",
        f"{cpu}, {cores} cores, SIMD {fastact.simd_level()}, {peers}, Python {platform.python_version()}; "
        f"best of {args.repeats}.",
        "",
        "| activation | threads | bias_act | bitwise = two-pass | fastact.NAME(x + b) | × | NumPy formula | × | "
        "torch F.NAME(t + b) | × | fastact.NAME(x), no bias | copy of x | copy / bias_act |",
        "|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for threads in sorted({1, cores}):
        lines += run(threads, args.repeats, x, b)
    lines += ["", "× > 1: bias_act is faster by that factor. `copy / bias_act` near 1 means memory-bound at the copy "
              "limit. Caveat: a shared 2-vCPU cloud machine where another engineer runs builds and CI at the same "
              "time: timings are noisy (best of N helps, does not cure); compare ratios within one run."]
    _bench.publish(lines, args.out)


if __name__ == "__main__":
    main()
